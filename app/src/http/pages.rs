pub fn routes() -> axum::Router<super::AppState> {
    axum::Router::new()
}
