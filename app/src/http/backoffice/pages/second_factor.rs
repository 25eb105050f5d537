//! The pages of a member's first steps: the password link from their mail (no session) and
//! the second factor's enrolment, whose answer shows the recovery codes once.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use crate::accounts::{self, MIN_PASSWORD_CHARS};
use crate::error::{Error, FormProblem};
use crate::http::AppState;
use crate::http::backoffice::Staff;
use crate::http::portal::{
    FormData, Layout, PageError, PageQuery, check_csrf, form_page, ok, refused, see_other,
};

// The password link.

#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "gestion/mot_de_passe.html")]
struct PasswordPage {
    layout: Layout,
    error: Option<String>,
    token: String,
    min_password: usize,
}

fn password_page(token: String) -> PasswordPage {
    PasswordPage {
        layout: Layout::new("Choisir votre mot de passe", None),
        error: None,
        token,
        min_password: MIN_PASSWORD_CHARS,
    }
}

pub(super) async fn password_form(
    PageQuery(query): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    ok(&password_page(query.token.unwrap_or_default()))
}

pub(super) async fn set_password(
    State(state): State<AppState>,
    form: FormData,
) -> Result<Response, PageError> {
    let token = form.get("token").trim().to_owned();
    let password = form.get("mot_de_passe");
    let result = if password != form.get("confirmation") {
        Err(Error::form(FormProblem::PasswordMismatch))
    } else {
        accounts::set_password(&state.pool, &token, password.to_owned(), state.clock.now()).await
    };
    match result {
        Ok(()) => Ok(see_other("/connexion?info=mot-de-passe")),
        Err(e) => refused(e, async { Ok(password_page(token)) }).await,
    }
}

// The second factor's enrolment.

#[derive(Template)]
#[template(path = "gestion/double_authentification.html")]
struct EnrolmentPage {
    layout: Layout,
    error: Option<String>,
    /// The session is already a full one: nothing to enrol.
    done: bool,
    /// The new secret, drawn by this GET; absent when a refused code is typed again (the
    /// secret the app holds is still the one stored).
    qr_svg: Option<String>,
    secret: Option<String>,
}

/// "ABCD EFGH …": a secret typed by hand is read in groups.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) async fn enrolment_form(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let mut template = EnrolmentPage {
        layout: Layout::new("Double authentification", Some(&staff.session)),
        error: None,
        done: staff.session.account.stage == accounts::Stage::Full,
        qr_svg: None,
        secret: None,
    };
    if !template.done {
        let enrolment = accounts::start_enrolment(&state.pool, &staff.session.account).await?;
        // Inline in HTML, the SVG needs no XML declaration.
        let svg = enrolment
            .qr_svg
            .find("<svg")
            .map_or(enrolment.qr_svg.as_str(), |at| &enrolment.qr_svg[at..]);
        template.qr_svg = Some(svg.to_owned());
        template.secret = Some(grouped(&enrolment.secret_base32));
    }
    ok(&template)
}

#[derive(Template)]
#[template(path = "gestion/codes_secours.html")]
struct RecoveryCodesPage {
    layout: Layout,
    codes: Vec<String>,
}

pub(super) async fn confirm_enrolment(
    State(state): State<AppState>,
    staff: Staff,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&staff.session, &form)?;
    let session = &staff.session;
    let result = accounts::confirm_enrolment(
        &state.pool,
        &session.account,
        &session.token,
        form.get("code").trim(),
        &staff.actor,
        state.clock.now(),
    )
    .await;
    match result {
        // Shown once, in the answer to the POST: only their digests are kept.
        Ok(codes) => ok(&RecoveryCodesPage {
            layout: Layout::new("Vos codes de secours", Some(session)),
            codes,
        }),
        Err(e) => {
            let done = matches!(
                e,
                Error::Conflict(crate::error::Conflict::SecondFactorEnrolled)
            );
            let template = EnrolmentPage {
                layout: Layout::new("Double authentification", Some(session)),
                error: None,
                done,
                qr_svg: None,
                secret: None,
            };
            refused(e, async { Ok(template) }).await
        }
    }
}

form_page!(PasswordPage, EnrolmentPage);
