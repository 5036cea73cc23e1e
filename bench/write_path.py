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

Also measured (issue 9): the gateway's RSS with 1,000 open idle keep-alive connections, before and
after the load, and its peak RSS (VmHWM: bounded under load); and the replay route's latency at half
its saturation rate (the replay req/s wrk just measured) from a constant-rate generator, `oha -q RATE
--latency-correction` (no coordinated omission; installed with `cargo install oha --locked` when
missing, or skipped loudly with --no-install).

Usage: bench/write_path.py [--secs 10] [--conns 64] [--idle-conns 1000] [--no-build] [--no-install]
                           [--profile release|debug]   (needs wrk, redis-server, openssl; oha optional)
       bench/write_path.py --readme   rewrites README's write-path table from bench/results/write-path.json
"""

import argparse
import json
import os
import re
import resource
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


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def idle_connections(port, n):
    """Opens `n` keep-alive connections, each answered once (GET /healthz), then left idle and open."""
    socks = []
    req = b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: keep-alive\r\n\r\n"
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(req)
        socks.append(s)
    for s in socks:
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return socks


def rss_with_idle(gw, port, n):
    """RSS (MiB) with `n` idle connections open, and how many were still open when it was read."""
    socks = idle_connections(port, n)
    time.sleep(0.5)
    rss = rss_mib(gw.pid)
    open_now = 0
    for s in socks:
        s.setblocking(False)
        try:
            open_now += 0 if s.recv(1) == b"" else 1
        except BlockingIOError:
            open_now += 1
        except OSError:
            pass
    for s in socks:
        s.close()
    return rss, open_now


def find_oha(install):
    found = shutil.which("oha") or next(
        (p for p in [os.path.expanduser("~/.cargo/bin/oha")] if os.path.exists(p)), None)
    if found or not install:
        return found
    print("oha not found: `cargo install oha --locked` (a few minutes, once)...", file=sys.stderr)
    if subprocess.run(["cargo", "install", "oha", "--locked"]).returncode != 0:
        return None
    return shutil.which("oha") or os.path.expanduser("~/.cargo/bin/oha")


def oha_constant_rate(oha, url, rate, secs, conns, headers, method="GET", body=None):
    """Latency at a constant `rate` req/s with latency correction: {rps, p50, p99, p999 (ms), ok}."""
    helptext = subprocess.run([oha, "--help"], capture_output=True, text=True).stdout
    fmt = ["--output-format", "json"] if "--output-format" in helptext else ["-j"]
    cmd = [oha, "--no-tui", *fmt, "-z", f"{secs}s", "-c", str(conns), "-q", str(rate), "--latency-correction",
           "-m", method]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if body is not None:
        cmd += ["-d", body]
    out = subprocess.run([*cmd, url], capture_output=True, text=True)
    try:
        j = json.loads(out.stdout)
    except json.JSONDecodeError:
        sys.exit(f"oha gave no JSON (exit {out.returncode}): {out.stderr[-2000:]}")
    pct = j.get("latencyPercentiles") or j.get("latency_percentiles") or {}
    summary = j.get("summary", {})
    codes = j.get("statusCodeDistribution") or {}
    ms = lambda k: (pct.get(k) or float("nan")) * 1000  # noqa: E731
    return {"rate": rate, "rps": summary.get("requestsPerSec", float("nan")), "p50": ms("p50"),
            "p99": ms("p99"), "p999": ms("p99.9"), "success": summary.get("successRate", float("nan")),
            "codes": codes}


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
    ap.add_argument("--idle-conns", type=int, default=1000)
    ap.add_argument("--no-install", action="store_true", help="skip the oha run when oha is missing")
    ap.add_argument("--readme", action="store_true",
                    help="only rewrite README's write-path table from bench/results/write-path.json")
    args = ap.parse_args()
    if args.readme:
        return write_readme()
    # 1,000 idle connections on each side (this process and the gateway, which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.idle_conns + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    oha = find_oha(not args.no_install)
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
        rss = {"start": rss_mib(gw.pid)}
        rss["idle_before"], open_before = rss_with_idle(gw, gport, args.idle_conns)

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
        rss["after_load"] = rss_mib(gw.pid)
        rss["idle_after"], open_after = rss_with_idle(gw, gport, args.idle_conns)
        rss["peak"] = peak_rss_mib(gw.pid)
        replay_row = next(r for r in rows if r["route"] == "POST recharge (replay)")
        constant = None
        if oha:
            half = max(int(replay_row["rps"] / 2), 1)
            constant = oha_constant_rate(
                oha, f"{gw_url}/v1/cards/{card}/recharges", half, args.secs, args.conns,
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 "Idempotency-Key": replay_key}, "POST", '{"amount":"0.01"}')
        hop = rows[0]["gw_us"]
        print(f"\nwrite path, {args.conns} connections × {args.secs}s per route, {args.profile} build, "
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
        print(f"\nGateway RSS: {rss['start']:.1f} MiB at rest; {rss['idle_before']:.1f} MiB with "
              f"{args.idle_conns} idle connections ({open_before} still open when read); "
              f"{rss['after_load']:.1f} MiB after the load; {rss['idle_after']:.1f} MiB with {args.idle_conns} idle "
              f"connections after the load ({open_after} open); peak (VmHWM) {rss['peak']:.1f} MiB "
              f"(issue 9 bound: 64 MiB — {'met' if max(rss['idle_before'], rss['idle_after'], rss['peak']) <= 64 else 'NOT met'})")
        if constant:
            print(f"Replay at half its saturation rate ({constant['rate']:,} req/s of {replay_row['rps']:,.0f}; "
                  f"oha -q {constant['rate']} --latency-correction -c {args.conns} -z {args.secs}s): achieved "
                  f"{constant['rps']:,.0f} req/s, p50 {constant['p50']:.2f} ms, p99 {constant['p99']:.2f} ms, "
                  f"p99.9 {constant['p999']:.2f} ms, success {constant['success']:.4f} "
                  f"(issue 9 target p99 ≤ 2 ms: {'met' if constant['p99'] <= 2 else 'NOT met'})")
        else:
            print("\n*** SKIPPED: replay p99 at half its saturation rate — oha is not installed "
                  "(`cargo install oha --locked`, or run without --no-install) ***", file=sys.stderr)
        os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "results", "write-path.json"), "w") as f:
            json.dump({"date": time.strftime("%Y-%m-%d", time.gmtime()), "profile": args.profile,
                       "command": "python3 bench/write_path.py " + " ".join(sys.argv[1:]),
                       "conns": args.conns, "secs": args.secs, "idle_conns": args.idle_conns,
                       "sign_us": sign_us, "verify_us": verify_us, "hop_us": hop, "rows": rows,
                       "rss": rss, "idle_open": [open_before, open_after], "replay_half_rate": constant},
                      f, indent=1)
    finally:
        stop_all()


README_START, README_END = "<!-- write-path-table:start -->", "<!-- write-path-table:end -->"
README_ROUTES = {
    "GET /healthz": "`GET /healthz`",
    "GET /v1/cards/{id}": "`GET /v1/cards/{id}`",
    "GET /v1/cards?limit=20": "`GET /v1/cards?limit=20`",
    "POST recharge (replay)": "recharge, replay",
    "POST recharge (first execution)": "recharge, first execution",
}


def write_readme():
    """README's write-path table, from the last run's bench/results/write-path.json."""
    with open(os.path.join(ROOT, "bench", "results", "write-path.json")) as f:
        res = json.load(f)
    if res.get("profile", "release") != "release":
        sys.exit("the last run was a debug build: its CPU figures mean nothing; run a release build first")
    out = [f"`{res.get('command', 'python3 bench/write_path.py')}`, {res.get('date', '?')}, 2 cores, release build "
           f"({res['sign_us']:.1f} µs per private block, {res['verify_us']:.2f} µs per public block; "
           f"{res.get('hop_us', res['rows'][0]['gw_us']):.1f} µs per bare hop):", "",
           "| route | req/s | p50 / p99 ms | gateway CPU µs/req | floor µs | ratio | sim CPU µs/req | "
           "Redis round trips/req | platform calls/req |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        fmt = (lambda v: f"{v:.3g}") if r["p50"] < 10 else (lambda v: f"{v:.1f}")  # noqa: E731
        out.append(f"| {README_ROUTES.get(r['route'], r['route'])} | {r['rps']:,.0f} | {fmt(r['p50'])} / "
                   f"{fmt(r['p99'])} | {r['gw_us']:,.0f} | {r['floor_us']:,.0f} | {r['gw_us'] / r['floor_us']:.2f}× | "
                   f"{r['sim_us']:,.0f} | {r['redis_trips']:.2f} | {r['upstream']:.2f} |")
    rss = res.get("rss")
    if rss:
        n = res.get("idle_conns", 1000)
        out += ["", f"Gateway RSS: {rss['start']:.1f} MiB at rest, **{rss['idle_before']:.1f} MiB with {n:,} idle "
                f"connections**, {rss['after_load']:.1f} MiB after the load ({rss['idle_after']:.1f} MiB with {n:,} "
                f"idle connections again), peak {rss['peak']:.1f} MiB (bound: 64 MiB)."]
    c = res.get("replay_half_rate")
    if c:
        out += ["", f"Replay at half its saturation rate, constant rate (`oha -q {c['rate']} --latency-correction`): "
                f"p50 {c['p50']:.2f} ms, **p99 {c['p99']:.2f} ms** (target ≤ 2 ms), p99.9 {c['p999']:.2f} ms."]
    else:
        out += ["", "Replay at half its saturation rate: not measured in this run (oha missing)."]
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        readme = f.read()
    if README_START not in readme or README_END not in readme:
        sys.exit(f"README.md has no {README_START} … {README_END} markers")
    before, rest = readme.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    with open(path, "w") as f:
        f.write(before + README_START + "\n" + "\n".join(out) + "\n" + README_END + after)
    print("README.md: write-path table rewritten from bench/results/write-path.json")


if __name__ == "__main__":
    main()
