#!/usr/bin/env python3
"""Writes the KEM known-answer files of this directory from their published sources.

kyber1024_round3_kat.json: NIST round-3 Kyber1024 KAT (PQCkemKAT_3168.rsp, 100 vectors), as
shipped in the PyPI sdist kyber-py==1.2.0 (assets/PQCkemKAT_3168.rsp, MIT; the KAT itself is the
Kyber team's round-3 submission output). Each vector keeps its DRBG seed and shared secret in
full and SHA-256 digests of pk, sk and ct; the file's own SHA-256 is kept too, so the test can
rebuild the whole .rsp from caudata's outputs and compare it byte for byte.

mlkem768_unluckysample.txt: C2SP CCTV ML-KEM/unluckysample/ML-KEM-768.txt (CC0 1.0), copied
verbatim (SHA-256 fede6f78…), as redistributed in the crates.io crate fips203 0.4.3
(tests/cctv_vectors/ML-KEM/unluckysample/).

    python3 -m venv /tmp/v && /tmp/v/bin/pip download --no-deps --no-binary :all: kyber-py==1.2.0 -d /tmp/k
    tar xzf /tmp/k/kyber_py-1.2.0.tar.gz -C /tmp/k
    python3 test-vectors/kem/generate.py /tmp/k/kyber_py-1.2.0/assets/PQCkemKAT_3168.rsp
"""
import hashlib
import json
import os
import sys

RSP_SHA256 = "a5f6aadd9e5d082937888be40cbdff3355533754b8f3d09532bc17c783b1caab"


def main(rsp_path):
    raw = open(rsp_path, "rb").read()
    digest = hashlib.sha256(raw).hexdigest()
    assert digest == RSP_SHA256, f"unexpected PQCkemKAT_3168.rsp: {digest}"
    vectors = []
    cur = {}
    for line in raw.decode().splitlines():
        if " = " not in line:
            continue
        k, v = line.split(" = ", 1)
        cur[k] = v.strip()
        if k == "ss":
            vectors.append({
                "count": int(cur["count"]),
                "seed": cur["seed"].lower(),
                "pk_sha256": hashlib.sha256(bytes.fromhex(cur["pk"])).hexdigest(),
                "sk_sha256": hashlib.sha256(bytes.fromhex(cur["sk"])).hexdigest(),
                "ct_sha256": hashlib.sha256(bytes.fromhex(cur["ct"])).hexdigest(),
                "ss": cur["ss"].lower(),
            })
            cur = {}
    assert len(vectors) == 100
    out = {
        "_comment": "NIST PQC round-3 Kyber1024 KAT (PQCkemKAT_3168.rsp, 100 vectors) as shipped in the PyPI "
        "sdist kyber-py==1.2.0 (assets/PQCkemKAT_3168.rsp). Seeds and shared secrets in full, SHA-256 of pk, sk, "
        "ct; rsp_sha256 is the SHA-256 of the whole .rsp file, which tests/kem_vectors.rs rebuilds from caudata's "
        "outputs. Regenerate with test-vectors/kem/generate.py.",
        "rsp_sha256": RSP_SHA256,
        "vectors": vectors,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kyber1024_round3_kat.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
