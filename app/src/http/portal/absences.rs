//! The family's absences page: declare an absence (children, days, reason, comment and an
//! optional certificate, in one `multipart/form-data` form), see each declaration with the
//! manager's decision, attach a certificate to a pending one, and download it again.

use askama::Template;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use cantine_domain::absence::{CertificateProblem, MAX_CERTIFICATE_BYTES, Reason, Status};
use cantine_domain::billing::LineKind;
use cantine_domain::ids::{AbsenceId, ChildId};
use cantine_domain::money::Cents;

use super::widgets::{Choice, parse_date};
use super::{Layout, PageError, PagePath, PageQuery, Signed, form_page, fr, refused, see_other};
use crate::absences::{self, AbsenceRow, Declaration};
use crate::error::{Error, Invalid, Malformed};
use crate::households;
use crate::http::AppState;
use crate::http::auth::Session;
use crate::http::certificates::{certificate_files, certificate_response};
use crate::http::routes;

/// A `multipart/form-data` form: its text fields, and the file of `certificat` if one was
/// chosen. The file is read whole up to the limit; past it, the rest of the body is still
/// read (and dropped), so that the browser gets our answer and not a reset connection.
pub(in crate::http) struct MultipartForm {
    fields: Vec<(String, String)>,
    file: Option<Result<Vec<u8>, CertificateProblem>>,
}

/// The file field of the forms that take a certificate.
const FILE_FIELD: &str = "certificat";

/// The longest text field kept from a multipart form: a comment, with room for its encoding.
const MAX_TEXT_FIELD_BYTES: usize = 16 * 1024;

fn multipart_error(e: MultipartError) -> Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::Invalid(Invalid::Certificate(CertificateProblem::TooLarge))
    } else {
        Error::Malformed(Malformed::Form)
    }
}

impl MultipartForm {
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The chosen file, checked for size; `None` when the family chose none.
    pub fn file(&self) -> Result<Option<Vec<u8>>, Error> {
        match &self.file {
            None => Ok(None),
            Some(Ok(bytes)) => Ok(Some(bytes.clone())),
            Some(Err(problem)) => Err(Error::Invalid(Invalid::Certificate(*problem))),
        }
    }

    pub fn check_csrf(&self, session: &Session) -> Result<(), PageError> {
        Ok(session.check_form_token(self.get("csrf"))?)
    }
}

impl<S: Send + Sync> FromRequest<S> for MultipartForm {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|_| Error::UnsupportedMediaType)?;
        let mut form = MultipartForm {
            fields: Vec::new(),
            file: None,
        };
        while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name == FILE_FIELD {
                // A file input left empty still sends its part, with no name and no bytes.
                let chosen = field.file_name().is_some_and(|n| !n.is_empty());
                let mut bytes = Vec::new();
                let mut too_large = false;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if bytes.len() + chunk.len() > MAX_CERTIFICATE_BYTES {
                        too_large = true;
                        bytes = Vec::new();
                    }
                    if !too_large {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                if chosen || !bytes.is_empty() || too_large {
                    form.file = Some(if too_large {
                        Err(CertificateProblem::TooLarge)
                    } else {
                        Ok(bytes)
                    });
                }
            } else {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    if text.len() + chunk.len() > MAX_TEXT_FIELD_BYTES {
                        return Err(Error::Malformed(Malformed::Form).into());
                    }
                    text.extend_from_slice(&chunk);
                }
                let text =
                    String::from_utf8(text).map_err(|_| Error::Malformed(Malformed::Form))?;
                form.fields.push((name, text));
            }
        }
        Ok(form)
    }
}

pub(in crate::http) struct DayLine {
    pub date: String,
    pub notice: &'static str,
}

pub(in crate::http) struct ChildLine {
    pub name: String,
    pub days: Vec<DayLine>,
}

/// One declaration as the family's page and the managers' queue list it.
pub(in crate::http) struct AbsenceLine {
    pub id: i64,
    pub household_id: i64,
    /// "Lina Martin et Adam Martin"
    pub children_names: String,
    pub days: String,
    pub reason: &'static str,
    pub comment: String,
    pub status: &'static str,
    /// `attente`, `acceptee` or `refusee`, for the status badge's class (the text says it).
    pub status_class: &'static str,
    pub refusal: Option<String>,
    pub declared: String,
    pub has_certificate: bool,
    pub pending: bool,
    pub children: Vec<ChildLine>,
}

fn days_text(a: &AbsenceRow) -> String {
    if a.first_day == a.last_day {
        fr::capitalized(&fr::long_date_year(a.first_day))
    } else {
        format!(
            "Du {} au {}",
            fr::long_date_year(a.first_day),
            fr::long_date_year(a.last_day)
        )
    }
}

pub(in crate::http) fn line(a: AbsenceRow) -> AbsenceLine {
    let (status_class, refusal) = match &a.status {
        Status::Pending => ("attente", None),
        Status::Accepted => ("acceptee", None),
        Status::Refused { reason } => ("refusee", Some(reason.clone())),
    };
    let names: Vec<String> = a
        .children
        .iter()
        .map(|c| format!("{} {}", c.first_name, c.last_name))
        .collect();
    AbsenceLine {
        id: a.id.get(),
        household_id: a.household.get(),
        children_names: fr::names_list(&names),
        days: days_text(&a),
        reason: fr::absence_reason(a.reason),
        status: fr::absence_status(&a.status),
        status_class,
        refusal,
        declared: format!("{} par {}", fr::date_time(a.declared_at), a.declared_by),
        has_certificate: a.certificate.is_some(),
        pending: a.status == Status::Pending,
        children: a
            .children
            .iter()
            .map(|c| ChildLine {
                name: format!("{} {}", c.first_name, c.last_name),
                days: c
                    .days
                    .iter()
                    .map(|(d, n)| DayLine {
                        date: fr::short_date(*d),
                        notice: fr::absence_notice(*n),
                    })
                    .collect(),
            })
            .collect(),
        comment: a.comment,
    }
}

#[derive(Template)]
#[template(path = "absences.html")]
struct AbsencesPage {
    layout: Layout,
    error: Option<String>,
    info: Option<&'static str>,
    children: Vec<Choice>,
    first_day: String,
    last_day: String,
    illness: bool,
    comment: String,
    max_mb: usize,
    absences: Vec<AbsenceLine>,
    /// Before recording a declaration that leaves meals charged: what stays charged.
    confirmation: Option<Confirmation>,
}

/// The step between the form and the declaration when days stay charged.
struct Confirmation {
    /// "Ce repas restera facturé 3,50 €"
    message: String,
    /// "Lina, lundi 7 décembre : absence déclarée après la date limite, 3,50 €"
    days: Vec<String>,
    /// The previewed total in cents, posted back: a changed form is previewed again.
    total_cents: i64,
    /// A file chosen with the first post is not sent again by the browser.
    had_file: bool,
}

/// The confirmation's words, or `None` when nothing stays charged.
fn confirmation(preview: &absences::Preview, had_file: bool) -> Option<Confirmation> {
    if !preview.needs_confirmation() {
        return None;
    }
    let charged: Vec<&absences::PreviewDay> = preview
        .charged_days()
        .filter(|d| d.amount.is_some_and(|a| a > Cents::ZERO))
        .collect();
    let total = fr::euros(preview.total);
    let message = if charged.len() == 1 {
        format!("Ce repas restera facturé {total}")
    } else {
        format!(
            "Ces {} repas resteront facturés {total} au total",
            charged.len()
        )
    };
    let days = charged
        .iter()
        .map(|d| {
            let why = match d.kind {
                Some(LineKind::IllnessCarence) => "jour de carence en cas de maladie",
                Some(LineKind::LateAbsence) => "absence déclarée après la date limite",
                _ => "repas dû",
            };
            let amount = fr::euros(d.amount.unwrap_or_default());
            format!(
                "{}, {} : {why}, {amount}",
                d.first_name,
                fr::long_date(d.date)
            )
        })
        .collect();
    Some(Confirmation {
        message,
        days,
        total_cents: preview.total.get(),
        had_file,
    })
}

form_page!(AbsencesPage);

/// The page, with the form filled with what was posted (if anything).
async fn absences_page(
    state: &AppState,
    session: &Session,
    posted: Option<&MultipartForm>,
) -> Result<AbsencesPage, PageError> {
    let household = session.household()?;
    let rules = state.rules();
    let ticked: Vec<&str> = posted
        .map(|f| f.all("enfants").collect())
        .unwrap_or_default();
    let children = households::children(&state.pool, household, rules.current_year()?)
        .await?
        .into_iter()
        .map(|c| Choice {
            selected: ticked.contains(&c.id.to_string().as_str()),
            value: c.id.to_string(),
            label: c.full_name(),
        })
        .collect();
    let today = rules.today().to_string();
    let absences = absences::for_household(&state.pool, household).await?;
    Ok(AbsencesPage {
        layout: Layout::new("Absences", Some(session)),
        error: None,
        info: None,
        children,
        first_day: posted.map_or(today.clone(), |f| f.get("du").to_owned()),
        last_day: posted.map_or(today, |f| f.get("au").to_owned()),
        illness: posted.is_none_or(|f| f.get("motif") != Reason::Other.code()),
        comment: posted
            .map(|f| f.get("commentaire").to_owned())
            .unwrap_or_default(),
        max_mb: MAX_CERTIFICATE_BYTES / (1024 * 1024),
        absences: absences.into_iter().map(line).collect(),
        confirmation: None,
    })
}

#[derive(Debug, Deserialize)]
pub(super) struct Info {
    info: Option<String>,
}

fn info(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "declaree" => {
            "Absence déclarée : le service de restauration scolaire la traitera, et vous serez prévenu par e-mail de sa décision."
        }
        "certificat" => "Certificat ajouté à la déclaration.",
        _ => return None,
    })
}

pub(super) async fn absences_form(
    State(state): State<AppState>,
    Signed(session): Signed,
    PageQuery(query): PageQuery<Info>,
) -> Result<Response, PageError> {
    let mut template = absences_page(&state, &session, None).await?;
    template.info = info(query.info.as_deref());
    super::ok(&template)
}

pub(super) async fn declare(
    State(state): State<AppState>,
    Signed(session): Signed,
    form: MultipartForm,
) -> Result<Response, PageError> {
    form.check_csrf(&session)?;
    let household = session.household()?;
    let result = async {
        let children = form
            .all("enfants")
            .map(|t| {
                t.trim()
                    .parse::<i64>()
                    .map(ChildId)
                    .map_err(|_| Error::NotFound)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let declaration = Declaration {
            children,
            first_day: parse_date(form.get("du"), "Premier jour")?,
            last_day: parse_date(form.get("au"), "Dernier jour")?,
            reason: Reason::from_code(form.get("motif")).ok_or(Error::Invalid(
                Invalid::Required {
                    field: crate::error::Field::Reason,
                },
            ))?,
            comment: form.get("commentaire").to_owned(),
        };
        // What stays charged is shown, and confirmed, before the absence is recorded; the
        // confirmation carries the total it showed, so a changed form is shown again.
        let preview =
            absences::preview(&state.pool, &state.rules(), household, &declaration).await?;
        let confirmed = form.get("confirme").parse::<i64>().ok() == Some(preview.total.get());
        if !confirmed && let Some(step) = confirmation(&preview, form.file()?.is_some()) {
            return Ok(Err(step));
        }
        absences::declare(
            &state.pool,
            &certificate_files(&state),
            &state.rules(),
            (household, session.account.account_id),
            &declaration,
            form.file()?,
        )
        .await
        .map(Ok)
    }
    .await;
    match result {
        Ok(Ok(_)) => Ok(see_other(&format!("{}?info=declaree", routes::ABSENCES))),
        Ok(Err(step)) => {
            let mut page = absences_page(&state, &session, Some(&form)).await?;
            page.confirmation = Some(step);
            super::ok(&page)
        }
        Err(e) => refused(e, absences_page(&state, &session, Some(&form))).await,
    }
}

/// Attaches a certificate to a pending declaration of the household.
pub(super) async fn attach_certificate(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(id): PagePath<i64>,
    form: MultipartForm,
) -> Result<Response, PageError> {
    form.check_csrf(&session)?;
    let household = session.household()?;
    let result = async {
        let bytes = form.file()?.ok_or(Error::Invalid(Invalid::Certificate(
            CertificateProblem::Empty,
        )))?;
        absences::attach_certificate(
            &state.pool,
            &certificate_files(&state),
            (household, session.account.account_id),
            AbsenceId(id),
            bytes,
        )
        .await
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("{}?info=certificat", routes::ABSENCES))),
        Err(e) => refused(e, absences_page(&state, &session, None)).await,
    }
}

pub(super) async fn certificate(
    State(state): State<AppState>,
    Signed(session): Signed,
    PagePath(id): PagePath<i64>,
) -> Result<Response, PageError> {
    let household = session.household()?;
    let file = absences::certificate_for_family(
        &state.pool,
        &certificate_files(&state),
        household,
        AbsenceId(id),
    )
    .await?;
    Ok(certificate_response(file))
}
