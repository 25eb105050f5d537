//! Sign-up, e-mail confirmation, log-in and log-out pages.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::{
    FormData, Layout, PageError, PageQuery, Signed, check_csrf, form_failure, form_page,
    local_path, page, refused, see_other,
};
use crate::accounts::{self, MIN_PASSWORD_CHARS, NewAccount};
use crate::error::{Error, Refusal};
use crate::http::auth::{self, MaybeSession};
use crate::http::{AppState, fr, routes};

#[derive(Debug, Default, Deserialize)]
pub(super) struct TokenQuery {
    #[serde(default)]
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    layout: Layout,
    error: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    invitation: String,
    min_password: usize,
}

impl SignupPage {
    fn new(invitation: String) -> Self {
        Self {
            layout: Layout::new("Créer un compte", None),
            error: None,
            first_name: String::new(),
            last_name: String::new(),
            email: String::new(),
            phone: String::new(),
            invitation,
            min_password: MIN_PASSWORD_CHARS,
        }
    }
}

pub(super) async fn signup_form(
    PageQuery(query): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    super::ok(&SignupPage::new(query.token.unwrap_or_default()))
}

pub(super) async fn signup(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: FormData,
) -> Result<Response, PageError> {
    let invitation = form.get("invitation").trim().to_owned();
    let mut template = SignupPage::new(invitation.clone());
    template.first_name = form.get("prenom").to_owned();
    template.last_name = form.get("nom").to_owned();
    template.email = form.get("email").to_owned();
    template.phone = form.get("telephone").to_owned();

    let ip = auth::client_ip(&headers, peer);
    let result = accounts::sign_up(
        &state.accounts(),
        &ip,
        NewAccount {
            email: template.email.clone(),
            password: form.get("mot_de_passe").to_owned(),
            first_name: template.first_name.clone(),
            last_name: template.last_name.clone(),
            phone: template.phone.clone(),
            invitation: (!invitation.is_empty()).then_some(invitation.clone()),
        },
    )
    .await;
    match result {
        // An invitation proves the address: that account can log in right away.
        Ok(_) if !invitation.is_empty() => Ok(see_other("/connexion?info=invite")),
        Ok(_) => Ok(see_other("/connexion?info=inscrit")),
        Err(e) => refused(e, async { Ok(template) }).await,
    }
}

form_page!(SignupPage);

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    layout: Layout,
    error: Option<String>,
    token: String,
}

/// Shows a button only: mail scanners follow links, so confirming takes a POST.
pub(super) async fn confirm_form(
    PageQuery(query): PageQuery<TokenQuery>,
) -> Result<Response, PageError> {
    super::ok(&ConfirmPage {
        layout: Layout::new("Confirmer votre adresse e-mail", None),
        error: None,
        token: query.token.unwrap_or_default(),
    })
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    form: FormData,
) -> Result<Response, PageError> {
    let token = form.get("token").trim().to_owned();
    match accounts::confirm_email(&state.pool, &token, state.clock.now()).await {
        Ok(()) => Ok(see_other("/connexion?info=confirme")),
        Err(e) => {
            let (status, message) = form_failure(e)?;
            page(
                status,
                &ConfirmPage {
                    layout: Layout::new("Erreur – Confirmer votre adresse e-mail", None),
                    error: Some(message),
                    token,
                },
            )
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LoginQuery {
    #[serde(default)]
    info: Option<String>,
    /// The page to go back to once logged in.
    #[serde(default)]
    suite: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    info: Option<&'static str>,
    email: String,
    back_to: String,
    /// The staff's second-factor field is unfolded when it is what went wrong.
    staff_code_open: bool,
}

fn login_info(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "inscrit" => Some(
            "Compte créé. Ouvrez le lien que nous venons de vous envoyer par e-mail pour l'activer, puis connectez-vous.",
        ),
        "confirme" => Some("Adresse e-mail confirmée. Vous pouvez vous connecter."),
        "invite" => Some("Compte créé : vous pouvez vous connecter."),
        "deconnecte" => Some("Vous êtes déconnecté."),
        "compte-clos" => Some(
            "Votre compte est clos et vos données personnelles sont effacées. Les factures et paiements restent conservés, sans votre nom, le temps que la comptabilité publique l'impose.",
        ),
        "mot-de-passe" => Some(
            "Mot de passe enregistré. Connectez-vous : à la première connexion, vous activerez la double authentification.",
        ),
        _ => None,
    }
}

pub(super) async fn login_form(
    MaybeSession(session): MaybeSession,
    PageQuery(query): PageQuery<LoginQuery>,
) -> Result<Response, PageError> {
    let back_to = query.suite.as_deref().and_then(local_path).unwrap_or("/");
    if session.is_some() {
        return Ok(see_other(back_to));
    }
    super::ok(&LoginPage {
        layout: Layout::new("Connexion", None),
        error: None,
        info: login_info(query.info.as_deref()),
        email: String::new(),
        back_to: back_to.to_owned(),
        staff_code_open: false,
    })
}

pub(super) async fn login(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    form: FormData,
) -> Result<Response, PageError> {
    let email = form.get("email").trim().to_owned();
    let back_to = local_path(form.get("suite")).unwrap_or("/").to_owned();
    let login = accounts::Login {
        email: &email,
        password: form.get("mot_de_passe"),
        second_factor: Some(form.get("code")),
    };
    match auth::log_in(&state, &headers, peer, jar, login).await {
        Ok((jar, session)) => {
            let to = match session.stage {
                accounts::Stage::EnrolSecondFactor => routes::SECOND_FACTOR,
                // Staff have no household: their home is the back office.
                accounts::Stage::Full if session.is_staff && back_to == routes::HOME => {
                    routes::STAFF_HOME
                }
                accounts::Stage::Full => &back_to,
            };
            Ok((jar, see_other(to)).into_response())
        }
        Err(e) => {
            let staff_code_open = matches!(
                e,
                Error::Forbidden(Refusal::SecondFactorRequired)
                    | Error::Invalid(crate::error::Invalid::SecondFactor)
            );
            let (status, message) = match e {
                Error::Forbidden(
                    refusal @ (Refusal::EmailNotConfirmed | Refusal::SecondFactorRequired),
                ) => (StatusCode::FORBIDDEN, fr::refused(refusal).to_owned()),
                other => form_failure(other)?,
            };
            page(
                status,
                &LoginPage {
                    layout: Layout::new("Erreur – Connexion", None),
                    error: Some(message),
                    info: None,
                    email,
                    back_to,
                    staff_code_open,
                },
            )
        }
    }
}

pub(super) async fn logout(
    State(state): State<AppState>,
    Signed(session): Signed,
    jar: CookieJar,
    form: FormData,
) -> Result<Response, PageError> {
    check_csrf(&session, &form)?;
    accounts::close_session(&state.pool, &session.token).await?;
    Ok((
        jar.add(auth::removal_cookie(&state)),
        see_other("/connexion?info=deconnecte"),
    )
        .into_response())
}
