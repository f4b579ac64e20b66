//! What an error costs does not grow with the size of the body beyond reading it: a 30 MiB body
//! that cannot be decoded gives a short message without copying the body over and over. Memory
//! is counted by a global allocator, so this test has a process of its own.

mod common;

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use common::*;
use peak_press_apps::{Client, Error, RetryConfig};
use tokio::{io::AsyncWriteExt, net::TcpListener};

/// The system allocator, counting the bytes in use and the most ever in use.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = IN_USE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        IN_USE.fetch_sub(layout.size(), Ordering::SeqCst);
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let now = IN_USE.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size - layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        } else {
            IN_USE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
        }
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MIB: usize = 1024 * 1024;

/// Serves `body` as a 200 to every request, without copying it.
async fn serve(body: Arc<[u8]>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                if read_request_head(&mut socket).await.is_some() {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&body).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_undecodable_30_mib_body_costs_about_what_reading_it_costs() {
    // Short words: the shape that made splitting and joining the whole body cost ten times its size.
    let body = [b"[".as_slice(), &b"1, ".repeat(10 * MIB), b"1]"].concat();
    assert!(body.len() >= 30 * MIB);
    let url = serve(body.clone().into()).await;
    let client = Client::builder().token(TOKEN).base_url(url).retry(RetryConfig::disabled()).build().unwrap();

    let before = IN_USE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let error = client.describe_spec("s").await.unwrap_err();
    let peak = PEAK.load(Ordering::SeqCst) - before;

    assert!(matches!(error, Error::Decode { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("the body began: [1, 1, 1"), "{message}");
    assert!(message.len() < 1000, "the message is short: {} bytes", message.len());
    // Reading the body may hold it twice while its chunks are joined; anything that copies or
    // splits it again goes over.
    assert!(peak < 3 * body.len(), "peak of {} MiB for a body of {} MiB", peak / MIB, body.len() / MIB);
}
