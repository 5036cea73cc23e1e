//! Envelope codec throughput: seal (private-key encryption, the expensive side) and open (public-key
//! decryption) of 256 B, 1 KiB and 4 KiB JSON payloads with the committed RSA-1024 development keys.
//! Compare with `openssl speed rsa1024` run in the same sitting (see README "Benchmarks").
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use card_gateway::{
    dev_keys,
    envelope::{EnvelopeCodec, PrivateKey, PublicKey},
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn payload(size: usize) -> Vec<u8> {
    // A realistic JSON object padded to the requested size.
    let mut s =
        String::from(r#"{"userReqNo":"cg1_demo_5f0c2a1b9d8e7f6a5b4c3d2e1f0a9b8c","localCurrency":"USD","note":""#);
    while s.len() < size - 2 {
        s.push('x');
    }
    s.push_str("\"}");
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let merchant = EnvelopeCodec::new(
        PrivateKey::parse(dev_keys::MERCHANT_PRIVATE_PEM).unwrap(),
        PublicKey::parse(dev_keys::PLATFORM_PUBLIC_PEM).unwrap(),
    );
    let platform = EnvelopeCodec::new(
        PrivateKey::parse(dev_keys::PLATFORM_PRIVATE_PEM).unwrap(),
        PublicKey::parse(dev_keys::MERCHANT_PUBLIC_PEM).unwrap(),
    );
    let mut seal = c.benchmark_group("seal");
    for size in [256usize, 1024, 4096] {
        let json = payload(size);
        seal.throughput(Throughput::Bytes(size as u64));
        seal.bench_with_input(BenchmarkId::from_parameter(size), &json, |b, json| {
            b.iter(|| merchant.seal_bytes(black_box(json)).unwrap())
        });
    }
    seal.finish();
    let mut open = c.benchmark_group("open");
    for size in [256usize, 1024, 4096] {
        let hex = platform.seal_bytes(&payload(size)).unwrap();
        open.throughput(Throughput::Bytes(size as u64));
        open.bench_with_input(BenchmarkId::from_parameter(size), &hex, |b, hex| {
            b.iter(|| merchant.open_bytes(black_box(hex)).unwrap())
        });
    }
    open.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
