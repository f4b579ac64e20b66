//! TLS: certificates are verified. A server with a self-signed certificate is refused by the
//! default client, and accepted by a caller's client that trusts that certificate, which shows
//! that verification, and nothing else, made the difference.

mod common;

use std::sync::Arc;

use common::*;
use peak_press_apps::{Client, Error, RetryConfig};
use tokio::{io::AsyncWriteExt, net::TcpListener};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        ServerConfig,
        crypto::aws_lc_rs,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
};

/// An HTTPS server on loopback for `localhost` with a self-signed certificate, answering every
/// request with a spec; returns its URL and the certificate.
async fn self_signed_server() -> (String, CertificateDer<'static>) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let certificate = generated.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate.clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                if read_request_head(&mut tls).await.is_none() {
                    return;
                }
                let body = spec_json("s", "n").to_string();
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (url, certificate)
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused() {
    let (url, _) = self_signed_server().await;
    let client = Client::builder().token(TOKEN).base_url(url).retry(RetryConfig::disabled()).build().unwrap();
    let error = client.describe_spec("s").await.unwrap_err();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert!(error.to_string().to_lowercase().contains("certificate"), "{error}");
}

#[tokio::test]
async fn the_same_server_is_accepted_once_its_certificate_is_trusted() {
    let (url, certificate) = self_signed_server().await;
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_der(&certificate).unwrap()])
        .build()
        .unwrap();
    let client = Client::builder().token(TOKEN).base_url(url).http_client(trusting).build().unwrap();
    assert_eq!(client.describe_spec("s").await.unwrap().id, "s");
}
