//! The core server over real sockets on 127.0.0.1, with std's blocking TcpStream playing
//! Asterisk and a test sink collecting the event batches. Counts and order only: bounds that
//! hold however loaded the machine is.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use audiosocket_engine::allow::AllowList;
use audiosocket_engine::config::EngineConfig;
use audiosocket_engine::dsp::{resample, Law, Resampler};
use audiosocket_engine::error::Code;
use audiosocket_engine::events::{Batch, CallHandle, EndReason, Event, Notify};
use audiosocket_engine::format::{AppFormat, Wire};
use audiosocket_engine::protocol::{CallId, Kind};
use audiosocket_engine::server::Server;

/// Far beyond what a healthy run needs: a bound on a broken one, not a timing claim.
const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Default)]
struct Signal {
    ready: Mutex<bool>,
    changed: Condvar,
}

struct Wake(Arc<Signal>);

impl Notify for Wake {
    fn notify(&self) {
        *self.0.ready.lock().unwrap() = true;
        self.0.changed.notify_all();
    }
}

/// An event with its audio copied out of the batch.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    Event(Event),
    Audio(CallHandle, Vec<i16>),
}

struct Harness {
    server: Server,
    signal: Arc<Signal>,
    seen: Vec<Seen>,
    batch: Batch,
}

impl Harness {
    fn start(config: EngineConfig) -> Harness {
        let signal = Arc::new(Signal::default());
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = Server::listen(config, addr, Box::new(Wake(signal.clone()))).unwrap();
        Harness {
            server,
            signal,
            seen: Vec::new(),
            batch: Batch::default(),
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.server.local_addr()).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    /// Takes batches until `predicate` holds on everything seen so far.
    fn until(&mut self, what: &str, predicate: impl Fn(&[Seen]) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !predicate(&self.seen) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            let mut ready = self.signal.ready.lock().unwrap();
            if !*ready {
                ready = self
                    .signal
                    .changed
                    .wait_timeout(ready, Duration::from_millis(50))
                    .unwrap()
                    .0;
            }
            *ready = false;
            drop(ready);
            self.server.take_events(&mut self.batch);
            for event in self.batch.events.drain(..) {
                self.seen.push(match event {
                    Event::Audio { call, start, len } => {
                        Seen::Audio(call, self.batch.pcm[start..start + len].to_vec())
                    }
                    event => Seen::Event(event),
                });
            }
        }
    }

    /// Waits for `frames` frames of caller audio, then returns every sample heard so far.
    fn audio_frames(&mut self, frames: usize) -> Vec<i16> {
        self.until("the frames", |seen| {
            seen.iter().filter(|s| matches!(s, Seen::Audio(..))).count() == frames
        });
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Audio(_, pcm) => Some(pcm.clone()),
                Seen::Event(_) => None,
            })
            .flatten()
            .collect()
    }

    /// Connects, sends a UUID, opens the call in the server's format (as the facade does), and
    /// returns the stream and the call's handle.
    fn call(&mut self, id: &str) -> (TcpStream, CallHandle) {
        let (stream, handle) = self.unopened_call(id);
        self.server.open(handle, None).unwrap();
        (stream, handle)
    }

    /// Connects and sends a UUID; the call is left for the test to open.
    fn unopened_call(&mut self, id: &str) -> (TcpStream, CallHandle) {
        let mut stream = self.connect();
        stream.write_all(&uuid_message(id)).unwrap();
        let id: CallId = id.parse().unwrap();
        self.until("the call", |seen| {
            seen.iter()
                .any(|s| matches!(s, Seen::Event(Event::Call { id: i, .. }) if *i == id))
        });
        let handle = self
            .seen
            .iter()
            .find_map(|s| match s {
                Seen::Event(Event::Call { call, id: i, .. }) if *i == id => Some(*call),
                _ => None,
            })
            .unwrap();
        (stream, handle)
    }

    fn end_of(&self, call: CallHandle) -> Option<(EndReason, Option<Code>, f64)> {
        self.seen.iter().find_map(|s| match s {
            Seen::Event(Event::End {
                call: c,
                reason,
                error,
                unplayed_ms,
                ..
            }) if *c == call => Some((*reason, error.as_ref().map(|e| e.code), *unplayed_ms)),
            _ => None,
        })
    }

    fn rejects(&self) -> Vec<Code> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Event(Event::Reject { error, .. }) => Some(error.code),
                _ => None,
            })
            .collect()
    }
}

fn uuid_message(id: &str) -> Vec<u8> {
    let id: CallId = id.parse().unwrap();
    let mut message = vec![0x01, 0x00, 0x10];
    message.extend_from_slice(id.as_bytes());
    message
}

fn audio_message(samples: &[i16]) -> Vec<u8> {
    let mut message = vec![0x10];
    message.extend_from_slice(&((samples.len() * 2) as u16).to_be_bytes());
    message.extend(samples.iter().flat_map(|s| s.to_le_bytes()));
    message
}

/// Deterministic PCM with no zero sample, so that audio is never mistaken for silence.
fn pattern(samples: usize, seed: i64) -> Vec<i16> {
    (0..samples as i64)
        .map(|i| {
            let value = ((i * 7919 + seed * 104_729) % 60_000) - 30_000;
            if value == 0 {
                1
            } else {
                value as i16
            }
        })
        .collect()
}

/// One message from the server: kind, payload and arrival time; `None` at end of stream.
fn read_message(stream: &mut TcpStream) -> Option<(u8, Vec<u8>, Instant)> {
    let mut header = [0; 3];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e)
            if e.kind() == ErrorKind::UnexpectedEof || e.kind() == ErrorKind::ConnectionReset =>
        {
            return None
        }
        Err(e) => panic!("read failed: {e}"),
    }
    let mut payload = vec![0; usize::from(u16::from_be_bytes([header[1], header[2]]))];
    stream.read_exact(&mut payload).unwrap();
    Some((header[0], payload, Instant::now()))
}

fn is_silence(payload: &[u8]) -> bool {
    payload.iter().all(|&b| b == 0)
}

fn samples_of(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

const ID: &str = "01234567-89ab-cdef-0123-456789abcdef";

#[test]
fn a_uuid_makes_a_call_then_paced_silence_flows() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, _) = h.call(ID);
    let local = stream.local_addr().unwrap();
    assert!(h.seen.iter().any(|s| matches!(s, Seen::Event(Event::Call { remote, wire, .. }) if *remote == local && *wire == Kind::SLIN_8K)));
    for _ in 0..5 {
        let (kind, payload, _) = read_message(&mut stream).unwrap();
        assert_eq!(kind, 0x10);
        assert_eq!(payload.len(), 320);
        assert!(is_silence(&payload));
    }
}

#[test]
fn caller_audio_reaches_the_application_bit_exact_in_order() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    let sent = pattern(160 * 20, 3);
    let bytes: Vec<u8> = sent.chunks(160).flat_map(audio_message).collect();
    // Split at awkward places: the decoder must not care.
    for piece in bytes.chunks(333) {
        stream.write_all(piece).unwrap();
    }
    h.until("20 frames", |seen| {
        seen.iter().filter(|s| matches!(s, Seen::Audio(..))).count() == 20
    });
    let received: Vec<i16> = h
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Audio(c, pcm) if *c == call => Some(pcm.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(received, sent);
    assert_eq!(h.server.stats(call).unwrap().frames_in, 20);
}

#[test]
fn written_audio_leaves_bit_exact_and_paced() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    let pcm = pattern(8000, 1);
    h.server.write(call, &pcm).unwrap();
    let mut audio = Vec::new();
    let mut arrivals = Vec::new();
    while arrivals.len() < 50 {
        let (kind, payload, at) = read_message(&mut stream).unwrap();
        assert_eq!((kind, payload.len()), (0x10, 320));
        if !is_silence(&payload) {
            audio.extend(samples_of(&payload));
            arrivals.push(at);
        }
    }
    assert!(audio == pcm, "the audio differs");
    // At most 3 ticks back to back after a stall, plus one frame a slow reader finds waiting:
    // any 10 consecutive frames span at least 5 periods.
    for window in arrivals.windows(11) {
        assert!(window[10] - window[0] >= Duration::from_millis(98));
    }
    let stats = h.server.stats(call).unwrap();
    assert_eq!(stats.frames_out - stats.silence_frames_out, 50);
    assert_eq!(stats.frames_dropped, 0);
}

#[test]
fn marks_fire_in_order_after_their_audio_and_drain_follows_high_water() {
    let mut h = Harness::start(EngineConfig {
        high_water_ms: 100,
        low_water_ms: 40,
        ..EngineConfig::default()
    });
    let (_stream, call) = h.call(ID);
    h.server.write(call, &pattern(1600, 1)).unwrap();
    h.server.mark(call, 1).unwrap();
    h.server.write(call, &pattern(800, 2)).unwrap();
    h.server.mark(call, 2).unwrap();
    h.server.mark(call, 3).unwrap();
    h.until("three marks", |seen| {
        seen.iter()
            .filter(|s| matches!(s, Seen::Event(Event::Mark { .. })))
            .count()
            == 3
    });
    let order: Vec<&Event> = h
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(e @ (Event::Mark { .. } | Event::Drain { .. })) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(
        order,
        [
            &Event::Mark { call, mark: 1 },
            &Event::Drain { call }, // 300 ms queued, low water 40: after frame 13
            &Event::Mark { call, mark: 2 },
            &Event::Mark { call, mark: 3 }
        ]
    );
    let stats = h.server.stats(call).unwrap();
    assert_eq!(stats.frames_out - stats.silence_frames_out, 15);
}

#[test]
fn clear_drops_exactly_what_is_queued_and_cancels_its_marks() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    let pcm = pattern(16_000, 4);
    h.server.write(call, &pcm[..8000]).unwrap();
    h.server.mark(call, 7).unwrap();
    h.server.write(call, &pcm[8000..]).unwrap();
    let mut audio = 0;
    while audio < 5 {
        let (_, payload, _) = read_message(&mut stream).unwrap();
        audio += usize::from(!is_silence(&payload));
    }
    let cleared = h.server.clear(call).unwrap();
    let stats = h.server.stats(call).unwrap();
    let sent = stats.frames_out - stats.silence_frames_out;
    assert_eq!(sent as f64 * 20.0 + cleared.cleared_ms, 2000.0);
    assert_eq!(
        cleared.marks.iter().map(|m| m.mark).collect::<Vec<_>>(),
        if sent < 50 { vec![7] } else { vec![] }
    );
    assert_eq!(stats.queued_ms, 0.0);
}

#[test]
fn hangup_sends_0x00_and_reports_the_unplayed_audio() {
    let mut h = Harness::start(EngineConfig {
        prebuffer_ms: 1000,
        ..EngineConfig::default()
    });
    let (mut stream, call) = h.call(ID);
    h.server.write(call, &pattern(4000, 1)).unwrap(); // 500 ms, under the prebuffer: not playing
    h.server.hangup(call, EndReason::LocalHangup);
    assert_eq!(
        h.server.write(call, &[1]).unwrap_err().code,
        Code::CallEnded
    );
    let mut last = None;
    while let Some((kind, payload, _)) = read_message(&mut stream) {
        last = Some((kind, payload));
    }
    assert_eq!(last, Some((0x00, vec![])));
    h.until("the end", |seen| {
        seen.iter()
            .any(|s| matches!(s, Seen::Event(Event::End { .. })))
    });
    assert_eq!(h.end_of(call), Some((EndReason::LocalHangup, None, 500.0)));
}

#[test]
fn a_peer_0x00_or_close_ends_the_call_as_remote_hangup() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut first, a) = h.call(ID);
    let (second, b) = h.call("11111111-2222-3333-4444-555555555555");
    first.write_all(&[0, 0, 0]).unwrap();
    second.shutdown(Shutdown::Write).unwrap();
    h.until("two ends", |seen| {
        seen.iter()
            .filter(|s| matches!(s, Seen::Event(Event::End { .. })))
            .count()
            == 2
    });
    assert_eq!(h.end_of(a).unwrap().0, EndReason::RemoteHangup);
    assert_eq!(h.end_of(b).unwrap().0, EndReason::RemoteHangup);
    first.shutdown(Shutdown::Write).unwrap();
    while read_message(&mut first).is_some() {}
}

#[test]
fn a_call_answers_stats_until_the_application_has_taken_its_end() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    stream.write_all(&audio_message(&pattern(160, 1))).unwrap();
    h.audio_frames(1);
    stream.write_all(&[0, 0, 0]).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    // The engine's FIN follows the end, which is now reported but not taken: the application
    // still sees a live call, so stats() must answer, with the final counters.
    while read_message(&mut stream).is_some() {}
    let stats = h
        .server
        .stats(call)
        .expect("stats() before the end is taken");
    assert_eq!(stats.frames_in, 1);
    h.until("the end", |seen| {
        seen.iter()
            .any(|s| matches!(s, Seen::Event(Event::End { call: c, .. }) if *c == call))
    });
    let error = h.server.stats(call).unwrap_err();
    assert_eq!(error.code, Code::CallEnded);
}

#[test]
fn bad_input_warns_or_fails_per_the_typescript_policy() {
    let mut h = Harness::start(EngineConfig {
        max_payload: 8192,
        ..EngineConfig::default()
    });
    let (mut stream, call) = h.call(ID);
    stream.write_all(&[0x10, 0, 0]).unwrap(); // empty audio: a warning
    stream.write_all(&[0x42, 0, 1, 9]).unwrap(); // unknown kind: a warning
    stream.write_all(&[0x03, 0, 1, b'x']).unwrap(); // not a digit: a warning
    stream.write_all(&[0x03, 0, 1, b'5']).unwrap();
    stream.write_all(&[0x10, 0xff, 0xff]).unwrap(); // past maxPayload: fatal
    h.until("the end", |seen| {
        seen.iter()
            .any(|s| matches!(s, Seen::Event(Event::End { .. })))
    });
    let warnings: Vec<Code> = h
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::Error { error, .. }) => Some(error.code),
            _ => None,
        })
        .collect();
    assert_eq!(
        warnings,
        [Code::EmptyAudio, Code::UnexpectedMessage, Code::BadDtmf]
    );
    assert!(h
        .seen
        .iter()
        .any(|s| matches!(s, Seen::Event(Event::Dtmf { digit: b'5', .. }))));
    assert_eq!(
        h.end_of(call),
        Some((EndReason::Error, Some(Code::PayloadTooLarge), 0.0))
    );
    let mut last = None;
    while let Some((kind, _, _)) = read_message(&mut stream) {
        last = Some(kind);
    }
    assert_eq!(last, Some(0x00));
}

#[test]
fn connections_that_never_become_calls_are_rejected_with_0x00() {
    let mut h = Harness::start(EngineConfig {
        handshake_timeout_ms: 100,
        max_calls: 2,
        ..EngineConfig::default()
    });
    let mut silent = h.connect();
    let mut garbage = h.connect();
    garbage.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    for stream in [&mut silent, &mut garbage] {
        let (kind, payload, _) = read_message(stream).unwrap();
        assert_eq!((kind, payload.len()), (0x00, 0));
        assert!(read_message(stream).is_none());
    }
    h.until("two rejects", |seen| {
        seen.iter()
            .filter(|s| matches!(s, Seen::Event(Event::Reject { .. })))
            .count()
            == 2
    });
    let mut rejects = h.rejects();
    rejects.sort_by_key(|c| c.as_str());
    assert_eq!(rejects, [Code::HandshakeTimeout, Code::NoUuid]);
}

#[test]
fn a_connection_past_max_calls_gets_0x00_and_the_calls_go_on() {
    let mut h = Harness::start(EngineConfig {
        max_calls: 2,
        ..EngineConfig::default()
    });
    let (mut a, _) = h.call(ID);
    let (_b, _) = h.call("11111111-2222-3333-4444-555555555555");
    let mut over = h.connect();
    over.write_all(&uuid_message("21111111-2222-3333-4444-555555555555"))
        .unwrap();
    assert_eq!(read_message(&mut over).map(|m| m.0), Some(0x00));
    h.until("the maxCalls reject", |seen| {
        seen.iter()
            .any(|s| matches!(s, Seen::Event(Event::Reject { .. })))
    });
    assert_eq!(h.rejects(), [Code::MaxCalls]);
    assert_eq!(read_message(&mut a).map(|m| m.0), Some(0x10));
}

#[test]
fn a_peer_outside_allow_is_closed_without_a_word() {
    let mut h = Harness::start(EngineConfig {
        allow: AllowList::parse(&["10.0.0.0/8"]).unwrap(),
        ..EngineConfig::default()
    });
    let mut stranger = h.connect();
    assert!(read_message(&mut stranger).is_none());
    h.until("the reject", |seen| !seen.is_empty());
    assert_eq!(h.rejects(), [Code::NotAllowed]);
}

#[test]
fn close_drains_then_hangs_up_every_call_and_reports_closed_last() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    let pcm = pattern(1600, 9);
    h.server.write(call, &pcm).unwrap();
    h.server.close(Duration::from_secs(20));
    let mut audio = Vec::new();
    let mut last = 0xee;
    while let Some((kind, payload, _)) = read_message(&mut stream) {
        if kind == 0x10 && !is_silence(&payload) {
            audio.extend(samples_of(&payload));
        }
        last = kind;
    }
    assert_eq!(last, 0x00);
    assert!(audio == pcm, "the audio differs");
    drop(stream);
    h.until("closed", |seen| {
        seen.last() == Some(&Seen::Event(Event::Closed))
    });
    assert_eq!(h.end_of(call), Some((EndReason::ServerClose, None, 0.0)));
    h.server.join();
    assert!(TcpStream::connect(h.server.local_addr()).is_err());
}

#[test]
fn many_servers_start_and_stop_cleanly() {
    for _ in 0..20 {
        let mut h = Harness::start(EngineConfig::default());
        let (mut stream, _) = h.call(ID);
        h.server.close(Duration::ZERO);
        while read_message(&mut stream).is_some() {}
        drop(stream); // the peer closes after our 0x00, as Asterisk does
        h.until("closed", |seen| {
            seen.last() == Some(&Seen::Event(Event::Closed))
        });
        h.server.join();
    }
    // Dropped without close(): the thread is stopped and joined by Drop.
    let h = Harness::start(EngineConfig::default());
    let _stream = h.connect();
    drop(h);
}

/// One 0x10 message carrying `payload` as it is (G.711 codes).
fn raw_audio_message(payload: &[u8]) -> Vec<u8> {
    let mut message = vec![0x10];
    message.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    message.extend_from_slice(payload);
    message
}

#[test]
fn a_ulaw_wire_with_a_16_khz_app_converts_both_ways_as_the_dsp_does() {
    let mut h = Harness::start(EngineConfig {
        sample_rate: 16_000,
        wire: Wire::Ulaw,
        output_rate: 8000,
        ..EngineConfig::default()
    });
    let (mut stream, call) = h.call(ID);
    let codes = Law::Ulaw.encode(&pattern(160 * 10, 4));
    for frame in codes.chunks(160) {
        stream.write_all(&raw_audio_message(frame)).unwrap();
    }
    let heard = h.audio_frames(10);
    let decoded = Law::Ulaw.decode(&codes);
    let mut resampler = Resampler::new(8000, 16_000).unwrap();
    let mut expected = vec![0; resampler.output_len(decoded.len())];
    resampler.process_into(&decoded, &mut expected);
    assert_eq!(heard, expected);

    let pcm = pattern(3200, 5); // 200 ms at 16 kHz
    h.server.write(call, &pcm).unwrap();
    h.server.mark(call, 1).unwrap();
    let expected = Law::Ulaw.encode(&resample(&pcm, 16_000, 8000).unwrap());
    let silence = Law::Ulaw.encode_sample(0);
    let mut wire = Vec::new();
    while wire.len() < expected.len() {
        let (kind, payload, _) = read_message(&mut stream).unwrap();
        assert_eq!((kind, payload.len()), (0x10, 160));
        if !payload.iter().all(|&b| b == silence) {
            wire.extend(payload);
        }
    }
    assert_eq!(wire, expected);
}

#[test]
fn g711_labelled_as_slin_gets_one_wire_format_warning_and_the_call_goes_on() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.call(ID);
    let codes = Law::Ulaw.encode(&pattern(160 * 15, 6));
    for frame in codes.chunks(160) {
        stream.write_all(&raw_audio_message(frame)).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    h.until("15 frames", |seen| {
        seen.iter().filter(|s| matches!(s, Seen::Audio(..))).count() == 15
    });
    let warnings: Vec<Code> = h
        .seen
        .iter()
        .filter_map(|s| match s {
            Seen::Event(Event::Error { error, .. }) => Some(error.code),
            _ => None,
        })
        .collect();
    assert_eq!(warnings, [Code::WireFormat]);
    assert!(h.end_of(call).is_none());
}

#[test]
fn a_call_opened_in_its_own_format_gets_every_frame_held_until_then_in_that_format() {
    let mut h = Harness::start(EngineConfig::default());
    let (mut stream, call) = h.unopened_call(ID);
    let pcm = pattern(160 * 10, 7);
    for frame in pcm.chunks(160) {
        stream.write_all(&audio_message(frame)).unwrap();
    }
    // Nothing reaches the application before the call is opened, however long it takes.
    std::thread::sleep(Duration::from_millis(100));
    h.server.take_events(&mut h.batch);
    assert!(!h
        .batch
        .events
        .iter()
        .any(|e| matches!(e, Event::Audio { .. })));

    let format = AppFormat {
        sample_rate: 16_000,
        channels: 2,
    };
    h.server.open(call, Some(format)).unwrap();
    let heard = h.audio_frames(10);
    let mut resampler = Resampler::new(8000, 16_000).unwrap();
    let mut mono = vec![0; resampler.output_len(pcm.len())];
    resampler.process_into(&pcm, &mut mono);
    let stereo: Vec<i16> = mono.iter().flat_map(|&s| [s, s]).collect();
    assert_eq!(heard, stereo);
    assert_eq!(
        h.server.open(call, None).unwrap_err().code,
        Code::InvalidArgument,
        "a call is opened once"
    );

    // Writes are in the call's format too: stereo pairs at 16 kHz, sent at the server's 8 kHz.
    assert_eq!(
        h.server.write(call, &[1, 2, 3]).unwrap_err().code,
        Code::InvalidArgument
    );
    h.server.write(call, &stereo).unwrap();
    let mut received = 0;
    while received < 10 {
        let (kind, payload, _) = read_message(&mut stream).unwrap();
        assert_eq!((kind, payload.len()), (0x10, 320));
        if !is_silence(&payload) {
            received += 1;
        }
    }
}

#[test]
fn a_call_format_no_call_can_have_is_refused_and_the_call_stays_unopened() {
    let mut h = Harness::start(EngineConfig::default());
    let (_stream, call) = h.unopened_call(ID);
    let odd = AppFormat {
        sample_rate: 9000,
        channels: 1,
    };
    assert_eq!(
        h.server.open(call, Some(odd)).unwrap_err().code,
        Code::BadSampleRate
    );
    let three = AppFormat {
        sample_rate: 16_000,
        channels: 3,
    };
    assert_eq!(
        h.server.open(call, Some(three)).unwrap_err().code,
        Code::InvalidArgument
    );
    h.server.open(call, None).unwrap();
}
