#!/usr/bin/env python3
"""The write path at the machine's limit (issue 9), measured in one run.

Starts a private redis-server, `merchant-sim` as its own process and the gateway (release build,
`upstream.mode = "http"`, every store and the rate limiter on Redis), then drives each route with
wrk and prints, per route: req/s, p50/p99, CPU µs per request of the gateway, the simulator and
Redis (from /proc/PID/stat), Redis commands per request (INFO commandstats), platform calls per
request (the simulator's /_sim/calls), the gateway's RSA blocks per request (its
card_gateway_envelope_rsa_blocks_total), the CPU floor and the gateway's ratio to it.

Floor per route = its RSA blocks × the cost of one block measured now by `openssl speed rsa1024`
(private-key blocks at the sign rate, public-key blocks at the verify rate) + the gateway's own CPU
per `GET /healthz` (one bare HTTP hop), measured in the same run. Ratios, not absolute numbers,
are what compare across runs on a noisy machine.

Usage: bench/write_path.py [--secs 10] [--conns 64] [--no-build] [--profile release|debug]   (needs wrk, redis-server, openssl)
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(") ", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / TICKS


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def http(method, url, token=None, body=None, headers=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
            return r.status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {url}: {e.code} {e.read().decode()}")


def wait_http(url, proc, what, log):
    for _ in range(200):
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"{what} did not start; log: {log}")


def redis_info(port, section):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", section], capture_output=True, text=True).stdout
    return out


def redis_commands(port):
    """Total calls and per-command calls from INFO commandstats."""
    per = {}
    for line in redis_info(port, "commandstats").splitlines():
        m = re.match(r"cmdstat_([^:]+):calls=(\d+)", line)
        if m:
            per[m.group(1)] = int(m.group(2))
    return per


def sim_calls(sim_url):
    _, calls = http("GET", f"{sim_url}/_sim/calls")
    return sum(v for v in calls.values() if isinstance(v, int))


def rsa_blocks(gw_url):
    text = urllib.request.urlopen(f"{gw_url}/metrics", timeout=5).read().decode()
    found = dict(re.findall(r'card_gateway_envelope_rsa_blocks_total\{key="(\w+)"\} (\d+)', text))
    trips = re.search(r"^card_gateway_redis_round_trips_total (\d+)", text, re.M)
    return int(found.get("private", 0)), int(found.get("public", 0)), int(trips.group(1)) if trips else 0


def openssl_block_costs():
    """µs per RSA-1024 private-key (sign) and public-key (verify) block, single core."""
    out = subprocess.run(
        ["openssl", "speed", "-seconds", "3", "rsa1024"], capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 7 and f[0] == "rsa" and f[1] == "1024":
            return 1e6 / float(f[5]), 1e6 / float(f[6])
    sys.exit("could not read `openssl speed rsa1024`:\n" + out)


def parse_wrk(text):
    def latency_ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    reqs = int(re.search(r"(\d+) requests in", text).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "requests": reqs,
        "rps": rps,
        "p50": latency_ms("50"),
        "p99": latency_ms("99"),
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


LUA = """
local counter, tid, threads = 0, 0, {}
function setup(thread) thread:set("tid", #threads + 1); table.insert(threads, thread) end
function init(args) tid = tonumber(wrk.thread:get("tid")) or 0 end
request = function()
  counter = counter + 1
  local h = {}
  h["Authorization"] = "Bearer " .. os.getenv("TOKEN")
  h["Content-Type"] = "application/json"
  local body = nil
  if os.getenv("METHOD") == "POST" then
    body = os.getenv("BODY")
    if os.getenv("UNIQUE") == "1" then
      h["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("RUN"), tid, counter)
    else
      h["Idempotency-Key"] = os.getenv("KEY")
    end
  end
  return wrk.format(os.getenv("METHOD"), os.getenv("PATH_URL"), h, body)
end
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=int, default=10)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--no-build", action="store_true")
    # debug: counts (round trips, platform calls, RSA blocks) without a 13-minute release build; its CPU
    # figures mean nothing.
    ap.add_argument("--profile", choices=["release", "debug"], default="release")
    args = ap.parse_args()
    for tool in ("wrk", "redis-server", "redis-cli", "openssl"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is required")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    if not args.no_build:
        release = ["--release"] if args.profile == "release" else []
        subprocess.run(["cargo", "build", *release, "--quiet", "--bins"], cwd=ROOT, check=True)
    gw_bin = os.path.join(target, args.profile, "card-gateway")
    sim_bin = os.path.join(target, args.profile, "merchant-sim")

    work = tempfile.mkdtemp(prefix="bench-write-path-")
    procs = []

    def stop_all(*_):
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGINT, lambda *_: (stop_all(), sys.exit(1)))
    try:
        rport, sport, gport = free_port(), free_port(), free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(rport), "--save", "", "--appendonly", "no", "--dir", work],
            stdout=open(f"{work}/redis.log", "w"), stderr=subprocess.STDOUT,
        )
        procs.append(redis)
        gw_url, sim_url = f"http://127.0.0.1:{gport}", f"http://127.0.0.1:{sport}"
        env = dict(os.environ)
        env.update({
            "CARD_GATEWAY__LOG__FILTER": "warn",
            "CARD_GATEWAY__SIMULATOR__LISTEN": f"127.0.0.1:{sport}",
            "CARD_GATEWAY__SIMULATOR__WEBHOOK_URL": f"{gw_url}/webhooks/merchant",
        })
        sim = subprocess.Popen([sim_bin], env=env, stdout=open(f"{work}/sim.log", "w"), stderr=subprocess.STDOUT)
        procs.append(sim)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(rport), "PING"], capture_output=True).returncode == 0:
                break
            time.sleep(0.05)
        env.update({
            "CARD_GATEWAY__SERVER__LISTEN": f"127.0.0.1:{gport}",
            "CARD_GATEWAY__UPSTREAM__MODE": "http",
            "CARD_GATEWAY__UPSTREAM__BASE_URL": sim_url,
            "CARD_GATEWAY__UPSTREAM__HEALTH_PROBE_S": "0",
            "CARD_GATEWAY__REDIS__URL": f"redis://127.0.0.1:{rport}",
            "CARD_GATEWAY__TENANCY__STORE": "redis",
            "CARD_GATEWAY__IDEMPOTENCY__STORE": "redis",
            "CARD_GATEWAY__RATE_LIMIT__BACKEND": "redis",
            "CARD_GATEWAY__RATE_LIMIT__MONEY_CAPS_STORE": "redis",
            "CARD_GATEWAY__WEBHOOKS__EVENT_STORE": "redis",
            "CARD_GATEWAY__RATE_LIMIT__CLASSES__WRITE": "{rate_per_s=1000000.0,burst=1000000}",
            "CARD_GATEWAY__RATE_LIMIT__CLASSES__READ": "{rate_per_s=1000000.0,burst=1000000}",
        })
        gw = subprocess.Popen([gw_bin, "serve"], env=env, stdout=open(f"{work}/gateway.log", "w"),
                              stderr=subprocess.STDOUT)
        procs.append(gw)
        wait_http(f"{sim_url}/_sim/calls", sim, "merchant-sim", f"{work}/sim.log")
        wait_http(f"{gw_url}/healthz", gw, "gateway", f"{work}/gateway.log")
        token = subprocess.run([gw_bin, "token", "--tenant", "bench", "--ttl", "1h"], env=env,
                               capture_output=True, text=True, check=True).stdout.strip()

        def new_card():
            _, card = http("POST", f"{gw_url}/v1/cards", token,
                           {"bin": "222929", "currency": "USD", "limit": "10.00"},
                           {"Idempotency-Key": f"card-{time.time_ns()}"})
            return card["id"]

        cards = [new_card() for _ in range(20)]
        card = cards[0]
        replay_key = f"replay-{time.time_ns()}"
        http("POST", f"{gw_url}/v1/cards/{card}/recharges", token, {"amount": "0.01"},
             {"Idempotency-Key": replay_key})
        lua = f"{work}/route.lua"
        with open(lua, "w") as f:
            f.write(LUA)
        sign_us, verify_us = openssl_block_costs()

        routes = [
            ("GET /healthz", "GET", "/healthz", {}),
            ("GET /v1/cards/{id}", "GET", f"/v1/cards/{card}", {}),
            ("GET /v1/cards?limit=20", "GET", "/v1/cards?limit=20", {}),
            ("POST recharge (replay)", "POST", f"/v1/cards/{card}/recharges",
             {"BODY": '{"amount":"0.01"}', "UNIQUE": "0", "KEY": replay_key}),
            ("POST recharge (first execution)", "POST", f"/v1/cards/{card}/recharges",
             {"BODY": '{"amount":"0.01"}', "UNIQUE": "1", "RUN": f"run{time.time_ns()}"}),
        ]
        rows = []
        for label, method, path, extra in routes:
            run_env = dict(os.environ, TOKEN=token, METHOD=method, PATH_URL=path, **extra)
            before = (cpu_seconds(gw.pid), cpu_seconds(sim.pid), cpu_seconds(redis.pid),
                      redis_commands(rport), sim_calls(sim_url), rsa_blocks(gw_url))
            out = subprocess.run(
                ["wrk", "-t1", f"-c{args.conns}", f"-d{args.secs}s", "--latency", "-s", lua, gw_url],
                env=run_env, capture_output=True, text=True, check=True).stdout
            after = (cpu_seconds(gw.pid), cpu_seconds(sim.pid), cpu_seconds(redis.pid),
                     redis_commands(rport), sim_calls(sim_url), rsa_blocks(gw_url))
            w = parse_wrk(out)
            n = max(w["requests"], 1)
            # The measuring calls themselves (INFO, /_sim/calls, /metrics) are excluded.
            cmds = {k: after[3].get(k, 0) - before[3].get(k, 0) for k in after[3]}
            cmds.pop("info", None)
            per_cmd = {k: v / n for k, v in sorted(cmds.items(), key=lambda kv: -kv[1]) if v}
            priv = (after[5][0] - before[5][0]) / n
            pub = (after[5][1] - before[5][1]) / n
            rows.append({
                "route": label, **w,
                "gw_us": (after[0] - before[0]) * 1e6 / n,
                "sim_us": (after[1] - before[1]) * 1e6 / n,
                "redis_us": (after[2] - before[2]) * 1e6 / n,
                "redis_cmds": sum(cmds.values()) / n,
                "redis_trips": (after[5][2] - before[5][2]) / n,
                "redis_detail": per_cmd,
                "upstream": (after[4] - before[4]) / n,
                "rsa_private": priv, "rsa_public": pub,
                "rss_mib": rss_mib(gw.pid),
            })
        hop = rows[0]["gw_us"]
        print(f"\nwrite path, {args.conns} connections × {args.secs}s per route, release build, "
              f"openssl rsa1024: {sign_us:.1f} µs/private block, {verify_us:.2f} µs/public block; "
              f"bare HTTP hop (gateway CPU per GET /healthz): {hop:.1f} µs\n")
        print("| route | req/s | p50 / p99 ms | non-2xx | gateway CPU µs/req | floor µs | ratio | "
              "sim CPU µs/req | Redis CPU µs/req | Redis round trips/req | Redis cmds/req (incl. in scripts) | platform calls/req | RSA blocks priv/pub | RSS MiB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            floor = hop + r["rsa_private"] * sign_us + r["rsa_public"] * verify_us
            r["floor_us"] = floor
            print(f"| {r['route']} | {r['rps']:,.0f} | {r['p50']:.2f} / {r['p99']:.2f} | {r['non2xx']} | "
                  f"{r['gw_us']:.0f} | {floor:.0f} | {r['gw_us'] / floor:.2f}× | {r['sim_us']:.0f} | "
                  f"{r['redis_us']:.0f} | {r['redis_trips']:.2f} | {r['redis_cmds']:.2f} | {r['upstream']:.2f} | "
                  f"{r['rsa_private']:.1f} / {r['rsa_public']:.1f} | {r['rss_mib']:.0f} |")
        print("\nRedis commands per request, by command (INFO commandstats; scripts' own calls included):")
        for r in rows:
            detail = ", ".join(f"{k} {v:.2f}" for k, v in r["redis_detail"].items()) or "none"
            print(f"- {r['route']}: {detail}")
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "write-path.json"), "w") as f:
            json.dump({"sign_us": sign_us, "verify_us": verify_us, "rows": rows}, f, indent=1)
    finally:
        stop_all()


if __name__ == "__main__":
    main()
