//! Development probe: the harsh-room recordings of `tests/harsh_rooms.rs`.
//! `cargo run --release --example rooms K OUT.wav [dry|near]` writes harsh room `K` (32-bit
//! float), the same watch without the room, or heard in a room from a microphone near it, and
//! prints its truth and recipe.
#[path = "../tests/harness/mod.rs"]
mod harness;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let (Some(k), Some(out)) = (a.get(1).and_then(|s| s.parse::<u64>().ok()), a.get(2)) else {
        eprintln!("usage: rooms K OUT.wav (K below {})", harness::rooms::ROOMS);
        std::process::exit(2);
    };
    let how = a.get(3).map(String::as_str);
    let kind =
        if how == Some("near") { harness::rooms::Room::NearMicrophone } else { harness::rooms::Room::Harsh };
    let (audio, truth, desc) = harness::rooms::recording_in(k, kind, how != Some("dry"));
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: audio.fs,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(out, spec).expect("writable");
    audio.samples.iter().for_each(|&s| w.write_sample(s).expect("written"));
    w.finalize().expect("written");
    println!("{desc}");
    println!("{}", truth.to_json());
}
