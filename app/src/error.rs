//! The application's one error type. It names what went wrong for the caller (a stable `code`
//! and a French message for families) without knowing how it is answered: the HTTP layer maps
//! it to `application/problem+json` or to an HTML page.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Also what another household's child looks like: we do not reveal that it exists.
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Input that does not make sense: unknown fields, impossible dates, blank names.
    #[error("{code}: {detail}")]
    Invalid { code: &'static str, detail: String },
    /// Input that is well-formed but that the current state refuses (deadline passed, …).
    #[error("{code}: {detail}")]
    Conflict { code: &'static str, detail: String },
    /// Input that cannot even be read (broken JSON).
    #[error("{code}: {detail}")]
    Malformed { code: &'static str, detail: String },
    #[error("payload too large")]
    TooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many attempts")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::Invalid {
            code: "validation",
            detail: detail.into(),
        }
    }

    pub fn invalid(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            detail: detail.into(),
        }
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            detail: detail.into(),
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(code) => code,
            Self::Invalid { code, .. }
            | Self::Conflict { code, .. }
            | Self::Malformed { code, .. } => code,
            Self::TooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::TooManyRequests => "too_many_requests",
            Self::Internal(_) => "internal",
        }
    }

    /// What a family reads: never a cause chain, never SQL.
    pub fn message_fr(&self) -> String {
        match self {
            Self::NotFound => "Ressource introuvable.".into(),
            Self::Unauthorized => "Connexion requise.".into(),
            Self::Forbidden(_) => "Action non autorisée.".into(),
            Self::Invalid { detail, .. }
            | Self::Conflict { detail, .. }
            | Self::Malformed { detail, .. } => detail.clone(),
            Self::TooLarge => "Requête trop volumineuse.".into(),
            Self::UnsupportedMediaType => "Content-Type: application/json attendu.".into(),
            Self::TooManyRequests => "Trop de tentatives. Réessayez dans quelques minutes.".into(),
            Self::Internal(_) => "Erreur interne. Réessayez plus tard.".into(),
        }
    }
}

/// PostgreSQL's `character_not_in_repertoire`: text that its encoding cannot hold, such as a
/// NUL character (U+0000) sent by a client.
const CHARACTER_NOT_IN_REPERTOIRE: &str = "22021";

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.code().as_deref() == Some(CHARACTER_NOT_IN_REPERTOIRE)
        {
            return Self::validation("Le texte contient un caractère non autorisé (U+0000).");
        }
        Self::Internal(e.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
