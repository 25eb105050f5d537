//! The status page: the appliance's health, fact by fact, with its state in words (the
//! service gathers, this page words).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::http::backoffice::Staff;
use crate::http::portal::{Layout, PageError, ok};
use crate::http::{AppState, fr};
use crate::status::{self, Certificate, Level, Run};

struct Row {
    label: String,
    value: String,
    state: &'static str,
    class: &'static str,
}

struct Group {
    title: &'static str,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "gestion/etat.html")]
struct StatusPage {
    layout: Layout,
    overall: &'static str,
    overall_class: &'static str,
    groups: Vec<Group>,
}

fn row(label: impl Into<String>, value: impl Into<String>, level: Level) -> Row {
    Row {
        label: label.into(),
        value: value.into(),
        state: fr::status_level(level),
        class: class(level),
    }
}

fn class(level: Level) -> &'static str {
    match level {
        Level::Ok => "etat-ok",
        Level::Warning => "etat-attention",
        Level::Failing => "etat-echec",
    }
}

fn run_value(run: &Run) -> String {
    let last = run
        .last_success
        .map_or_else(|| "jamais".to_owned(), fr::date_time);
    let mut value = match run.last_run_success {
        None => "Jamais lancée".to_owned(),
        Some(true) => format!("Dernière exécution réussie ; dernier succès : {last}"),
        Some(false) => format!("Dernière exécution en échec ; dernier succès : {last}"),
    };
    if run.last_run_success == Some(false)
        && let Some(error) = &run.last_error
    {
        value.push_str(&format!(" ({error})"));
    }
    value
}

pub(super) async fn status_page(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Response, PageError> {
    let s = status::gather(
        &state.pool,
        &state.config,
        state.metrics.started_at,
        state.clock.now(),
    )
    .await?;
    let mut groups = vec![Group {
        title: "Application",
        rows: vec![
            row(
                "Version",
                format!("{} ({})", s.version, s.commit),
                Level::Ok,
            ),
            row("Démarrée depuis", fr::duration(s.uptime_secs), Level::Ok),
        ],
    }];
    groups.push(Group {
        title: "Stockage",
        rows: vec![
            row(
                "Taille de la base de données",
                fr::bytes(s.database_bytes.max(0) as u64),
                Level::Ok,
            ),
            row(
                "Espace disque du dossier de données",
                s.disk.map_or_else(
                    || "Impossible à mesurer".to_owned(),
                    |d| {
                        format!(
                            "{} libres sur {} ({} % utilisés)",
                            fr::bytes(d.free_bytes),
                            fr::bytes(d.total_bytes),
                            (d.used * 100.0).round() as u64
                        )
                    },
                ),
                s.disk_level,
            ),
        ],
    });
    let mut backups = Vec::new();
    if s.backups.is_empty() {
        backups.push(row(
            "Sauvegardes",
            "Aucune sauvegarde enregistrée",
            s.backups_level,
        ));
    }
    for t in &s.backups {
        backups.push(row(
            format!("Sauvegarde « {} »", t.target),
            run_value(&t.backup),
            t.backup.level,
        ));
        backups.push(row(
            format!("Vérification « {} »", t.target),
            run_value(&t.check),
            t.check.level,
        ));
        backups.push(row(
            format!("Exercice de restauration « {} »", t.target),
            run_value(&t.drill),
            t.drill.level,
        ));
    }
    groups.push(Group {
        title: "Sauvegardes",
        rows: backups,
    });
    groups.push(Group {
        title: "Certificat",
        rows: vec![row(
            "Certificat TLS",
            match &s.certificate {
                Certificate::NotApplicable => "Non applicable".to_owned(),
                Certificate::Present(path) => format!(
                    "Présent ({}) ; l'échéance est surveillée par les alertes",
                    path.display()
                ),
            },
            s.certificate.level(),
        )],
    });
    groups.push(Group {
        title: "Courriels et tâches",
        rows: vec![
            row(
                "Courriels de facturation en attente",
                format!(
                    "{} en file, {} en nouvel essai ; le plus ancien attend depuis {}",
                    s.outbox.queued,
                    s.outbox.retrying,
                    fr::duration(s.outbox.oldest_secs as u64)
                ),
                s.outbox.level,
            ),
            row(
                "File des tâches",
                format!(
                    "Plus ancienne tâche : {} ; envois à la cuisine en attente : {}",
                    fr::duration(s.jobs.oldest_secs.max(s.jobs.kitchen_oldest_secs) as u64),
                    s.jobs.kitchen_pending
                ),
                s.jobs.level,
            ),
        ],
    });
    groups.push(Group {
        title: "Paiements PayFiP",
        rows: vec![row(
            "Rapprochement",
            format!(
                "{} paiement(s) en attente ; {} anomalie(s) enregistrée(s) dont {} sur 24 h ; {} payé(s) sur 24 h",
                s.payfip.pending, s.payfip.mismatches, s.payfip.mismatches_24h, s.payfip.paid_24h
            ),
            s.payfip.level,
        )],
    });
    let mut kitchen: Vec<Row> = s
        .kitchen
        .iter()
        .map(|k| {
            row(
                k.school.clone(),
                format!(
                    "{} repas ; {} (limite {})",
                    k.meals,
                    if k.frozen { "figé" } else { "non figé" },
                    fr::date_time(k.deadline)
                ),
                k.level,
            )
        })
        .collect();
    if kitchen.is_empty() {
        kitchen.push(row("Aujourd'hui", "Pas de service", Level::Ok));
    }
    groups.push(Group {
        title: "Effectifs de la cuisine aujourd'hui",
        rows: kitchen,
    });
    let overall = s.level();
    ok(&StatusPage {
        layout: Layout::new("État du service", Some(&staff.session)),
        overall: fr::status_level(overall),
        overall_class: class(overall),
        groups,
    })
}
