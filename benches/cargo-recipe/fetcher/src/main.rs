//! Benchmark fixture of benches/cargo-recipe.sh: a tokio + reqwest client, as a newcomer writes one.

#[derive(serde::Deserialize, Debug)]
struct Ip {
    origin: String,
}

#[tokio::main]
async fn main() -> Result<(), reqwest::Error> {
    let ip: Ip = reqwest::get("http://127.0.0.1:9/ip").await?.json().await?;
    println!("{}", ip.origin);
    Ok(())
}
