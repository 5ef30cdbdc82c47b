//! Every `tracing` event of this test process, as text (nextest runs each test in its
//! own process, so the global subscriber sees only that test).
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Installs the capturing subscriber (at TRACE) and returns its text.
pub fn install() -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Capture {
        text: Arc::clone(&text),
        next_id: AtomicU64::new(0),
    })
    .expect("the only subscriber in this process");
    text
}

/// Records every event and span field as text.
struct Capture {
    text: Arc<Mutex<String>>,
    next_id: AtomicU64,
}

struct Writer<'a>(&'a mut String);

impl Visit for Writer<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Writer(&mut self.text.lock().unwrap()));
        Id::from_u64(self.next_id.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Writer(&mut self.text.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut text = self.text.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}:",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Writer(&mut text));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
