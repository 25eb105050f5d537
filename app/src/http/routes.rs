//! The pages' paths, named once: the router mounts them and mails link to them, so a renamed
//! page cannot leave a dead link in a family's mailbox.

use url::Url;

use crate::accounts::AccountMails;
use crate::platform::mail::Mail;

pub const HOME: &str = "/";
pub const STYLESHEET: &str = "/static/app.css";
pub const SIGN_UP: &str = "/inscription";
pub const CONFIRM: &str = "/confirmer";
pub const LOG_IN: &str = "/connexion";
pub const LOG_OUT: &str = "/deconnexion";
pub const HOUSEHOLD: &str = "/foyer";
pub const INVITE: &str = "/foyer/invitation";
pub const NEW_CHILD: &str = "/enfants/nouveau";
pub const ENROLLMENT: &str = "/enfants/{child_id}/inscription";
pub const CALENDAR: &str = "/enfants/{child_id}/calendrier";
pub const DAY: &str = "/enfants/{child_id}/jours/{date}";
pub const PATTERN: &str = "/enfants/{child_id}/semaine-type";

/// Links in mails point at the public URL the families use.
pub struct Links {
    pub public_url: Url,
}

impl Links {
    fn link(&self, path: &str, token: &str) -> String {
        let mut url = self.public_url.join(path).expect("static path");
        url.query_pairs_mut().append_pair("token", token);
        url.to_string()
    }
}

/// The accounts' mails, in French, with links to this site's pages.
impl AccountMails for Links {
    fn confirm_email(&self, to: &str, first_name: &str, token: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Confirmez votre adresse e-mail".into(),
            body: format!(
                "Bonjour {first_name},\n\nPour activer votre compte Cantine, ouvrez ce lien dans les 48 heures :\n{}\n\nSi vous n'avez pas créé de compte, ignorez ce message.\n",
                self.link(CONFIRM, token)
            ),
        }
    }

    fn invite_guardian(&self, to: &str, inviter_first_name: &str, token: &str) -> Mail {
        Mail {
            to: to.to_owned(),
            subject: "Invitation à rejoindre un foyer sur Cantine".into(),
            body: format!(
                "Bonjour,\n\n{inviter_first_name} vous invite à gérer la cantine de vos enfants avec lui ou elle.\nCréez votre compte avec ce lien (valable 7 jours) :\n{}\n",
                self.link(SIGN_UP, token)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_links_lead_to_the_pages_with_their_token() {
        let links = Links {
            public_url: "https://cantine.techniville.fr/".parse().unwrap(),
        };
        let mail = links.confirm_email("a@b.fr", "Élodie", "t0k");
        assert!(
            mail.body
                .contains("https://cantine.techniville.fr/confirmer?token=t0k"),
            "{}",
            mail.body
        );
        let mail = links.invite_guardian("a@b.fr", "Élodie", "t0k");
        assert!(
            mail.body.contains("/inscription?token=t0k"),
            "{}",
            mail.body
        );
    }
}
