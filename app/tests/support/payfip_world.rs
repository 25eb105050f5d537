// The PayFiP world shared by payments.rs and payments_rest.rs, included textually (include!) so
// each test file keeps its own crate without a support module of public items.

const PASSWORD: &str = "un mot de passe solide";
const AMOUNT: i64 = 4_250;

/// The application configured for PayFiP at the simulator, a signed-in family and one issued
/// invoice of 42,50 € left to pay. The clock starts at the real time (the simulator stamps
/// its decisions with it) and stays there until a test moves it.
struct World {
    app: TestApp,
    sim: String,
    family: Family,
    invoice: i64,
    /// A browser that does not follow redirects, to see where each step sends it.
    browser: reqwest::Client,
}

async fn world() -> World {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(payfip_simulator::serve(
        listener,
        Switches::default(),
        std::future::pending(),
    ));
    let (endpoint, page) = (
        format!("{sim}{}", payfip_simulator::SOAP_PATH),
        format!("{sim}{}", payfip_simulator::PAGE_PATH),
    );
    let now = Utc::now().duration_trunc(Duration::seconds(1)).unwrap();
    let app = TestApp::builder()
        .clock(now)
        .config(move |c| {
            // PayFiP must reach this very instance: its notification and return URLs.
            c.public_url = format!("http://{}", c.listen).parse().unwrap();
            c.payfip.endpoint = endpoint.parse().unwrap();
            c.payfip.payment_page = page.parse().unwrap();
            c.payfip.worker = false;
            c.payfip.timeout_secs = 5;
            c.payfip.regies = vec![PayfipRegie {
                code: "CANT".into(),
                numcli: "012345".into(),
            }];
        })
        .spawn()
        .await;
    let family = fixtures::family(&app, "martin", PASSWORD).await;
    let invoice = issued_invoice(&app, family.household, 1).await;
    World {
        app,
        sim,
        family,
        invoice,
        browser: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    }
}

/// An issued invoice of [`AMOUNT`] posted to the household's ledger, as an issued run leaves it.
async fn issued_invoice(app: &TestApp, household: i64, n: i64) -> i64 {
    let number = format!("CANT-2026-{:06}", household * 100 + n);
    let id: i64 = sqlx::query_scalar(
        "insert into invoice (regie_id, household_id, kind, month, number, status, amount_cents,
                              issued_at)
         values ((select id from regie where code = 'CANT'), $1, 'invoice', date '2026-11-01',
                 $2, 'issued', $3, now())
         returning id",
    )
    .bind(household)
    .bind(&number)
    .bind(AMOUNT)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into ledger_entry (household_id, regie_id, kind, amount_cents, invoice_id, memo)
         values ($1, (select id from regie where code = 'CANT'), 'invoice', $2, $3, $4)",
    )
    .bind(household)
    .bind(AMOUNT)
    .bind(id)
    .bind(&number)
    .execute(&app.pool)
    .await
    .unwrap();
    id
}

impl World {
    async fn switches(&self, switches: Value) {
        let response = self
            .browser
            .put(format!("{}/simulator/switches", self.sim))
            .json(&switches)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    }

    async fn start_on(&self, invoice: i64) -> reqwest::Response {
        self.family
            .call(
                Method::POST,
                &format!("/api/v1/invoices/{invoice}/payments"),
                None,
            )
            .await
    }

    /// `startPayment`: (payment id, idOp), after checking the page it sends to.
    async fn start(&self) -> (i64, String) {
        let response = self.start_on(self.invoice).await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        let url = body["redirect_url"].as_str().unwrap().to_owned();
        assert!(
            url.starts_with(&format!("{}/tpa/paiementws.web?idop=", self.sim)),
            "{url}"
        );
        assert_eq!(body["payment"]["status"], "pending");
        assert_eq!(body["payment"]["amount_cents"], AMOUNT);
        let id_op = url.split("idop=").nth(1).unwrap().to_owned();
        (body["payment_id"].as_i64().unwrap(), id_op)
    }

    /// The tester opens PayFiP's page and clicks an outcome: answers where PayFiP sends the
    /// browser back.
    async fn choose(&self, id_op: &str, resultrans: &str) -> String {
        let page = self
            .browser
            .get(format!("{}/tpa/paiementws.web?idop={id_op}", self.sim))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("42,50 €") && html.contains("name=\"resultrans\""),
            "{html}"
        );
        let response = self
            .browser
            .post(format!("{}/tpa/paiementws.web", self.sim))
            .form(&[("idop", id_op), ("resultrans", resultrans)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn status(&self, payment: i64) -> String {
        let response = self
            .family
            .call(Method::GET, &format!("/api/v1/payments/{payment}"), None)
            .await;
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["status"].as_str().unwrap().to_owned()
    }

    /// The stored state, read without asking PayFiP (which `getPayment` would do).
    async fn state(&self, id_op: &str) -> String {
        sqlx::query_scalar("select state from payfip_attempt where id_op = $1")
            .bind(id_op)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    async fn last_fault(&self, id_op: &str) -> Option<String> {
        sqlx::query_scalar("select last_fault from payfip_attempt where id_op = $1")
            .bind(id_op)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }

    /// The ledger's payments of the household: (amount, means, idempotency key).
    async fn ledger_payments(&self) -> Vec<(i64, String, String)> {
        sqlx::query_as(
            "select amount_cents, means, idempotency_key from payment where household_id = $1
             order by id",
        )
        .bind(self.family.household)
        .fetch_all(&self.app.pool)
        .await
        .unwrap()
    }

    async fn due(&self) -> Cents {
        cantine::billing::balance(&self.app.pool, HouseholdId(self.family.household))
            .await
            .unwrap()
            .due
    }

    async fn notify(&self, id_op: &str) -> (StatusCode, String) {
        let response = reqwest::get(self.app.url(&format!("/payfip/notification?idop={id_op}")))
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    fn advance(&self, by: Duration) -> DateTime<Utc> {
        let at = self.app.clock().now() + by;
        self.app.clock().set(at);
        at
    }

    async fn reconcile(&self) -> usize {
        payments::reconcile(&cantine::http::payfip::payments(&self.app.state))
            .await
            .unwrap()
    }

    async fn attempts(&self) -> i64 {
        sqlx::query_scalar("select count(*) from payfip_attempt")
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}
