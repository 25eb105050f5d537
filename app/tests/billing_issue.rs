//! Issuing a month posts all its invoices together (`billing::issue`, one statement per step
//! whatever the number of households): each invoice is numbered in order without gaps, posted
//! to its household's ledger, and uses that household's credit, and only that household's.

use cantine::billing::{self, InvoiceStatus, Means, Month, PaymentInput};
use cantine_domain::ids::HouseholdId;
use cantine_domain::money::Cents;
use cantine_test_support::TestApp;
use cantine_test_support::fixtures;
use cantine_test_support::time::{date, paris};

const PASSWORD: &str = "un mot de passe solide";

#[tokio::test]
async fn an_issue_numbers_every_invoice_and_uses_each_households_own_credit() {
    let app = TestApp::builder()
        .clock(paris("2026-11-19 08:30:00"))
        .spawn()
        .await;
    let school = fixtures::school(&app.pool, "École Jules-Ferry", "").await;
    fixtures::school_year(
        &app.pool,
        "2026-2027",
        date("2026-09-01"),
        date("2027-07-03"),
    )
    .await;
    sqlx::raw_sql(
        "insert into tariff (school_year_id, applies_from, mode, pai_cents, non_resident_cents,
                             adult_cents, unbooked_surcharge_cents, carence_days)
         select id, first_day, 'brackets', 150, 350, 700, 150, 1 from school_year;
         insert into tariff_band (tariff_id, qf_min, qf_max, meal_price_cents)
         select id, 0, null, 350 from tariff;",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut households = Vec::new();
    for name in ["martin", "bernard", "petit"] {
        let family = fixtures::family(&app, name, PASSWORD).await;
        fixtures::enrolled_child(&app, &family, school, "Lina").await;
        households.push(HouseholdId(family.household));
    }
    // Only the Bernards paid ahead: 10,00 € of credit.
    billing::record_payment(
        &app.pool,
        None,
        PaymentInput {
            household: households[1],
            regie: "CANT".to_owned(),
            amount: Cents(1000),
            means: Means::Cash,
            reference: "avance".to_owned(),
            received_on: date("2026-11-02"),
            idempotency_key: "avance-bernard".to_owned(),
            invoice: None,
        },
    )
    .await
    .unwrap();
    let month = Month(date("2026-11-01"));
    billing::run(&app.pool, None, "CANT", month).await.unwrap();
    let issued = billing::issue(&app.pool, None, "CANT", month)
        .await
        .unwrap();

    assert_eq!(issued.invoices.len(), 3);
    let mut numbers: Vec<&str> = issued
        .invoices
        .iter()
        .map(|i| i.number.as_deref().unwrap())
        .collect();
    numbers.sort_unstable();
    let suffixes: Vec<&str> = numbers.iter().map(|n| &n[n.len() - 6..]).collect();
    assert_eq!(suffixes, ["000001", "000002", "000003"], "{numbers:?}");
    for invoice in &issued.invoices {
        assert!(invoice.amount > Cents::ZERO, "{invoice:?}");
        let balance = billing::balance(&app.pool, invoice.household)
            .await
            .unwrap();
        if invoice.household == households[1] {
            assert_eq!(invoice.paid, Cents(1000));
            assert_eq!(invoice.status, InvoiceStatus::PartiallyPaid);
            assert_eq!(balance.due, invoice.amount - Cents(1000));
            assert_eq!(balance.credit, Cents::ZERO);
        } else {
            assert_eq!(invoice.paid, Cents::ZERO);
            assert_eq!(invoice.status, InvoiceStatus::Issued);
            assert_eq!(balance.due, invoice.amount);
        }
        let entries = billing::ledger(&app.pool, invoice.household).await.unwrap();
        assert_eq!(
            entries
                .iter()
                .filter(|e| e.document.as_ref().map(|d| d.0) == Some(invoice.id))
                .count(),
            1,
            "one ledger entry per invoice: {entries:?}"
        );
    }
    // Issuing again changes nothing.
    let again = billing::issue(&app.pool, None, "CANT", month)
        .await
        .unwrap();
    assert_eq!(again.invoices, issued.invoices);
}
