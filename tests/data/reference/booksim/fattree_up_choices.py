"""How BookSim's fat-tree routing picks an up port: its choices against the credits in use.

    python tests/data/reference/booksim/fattree_up_choices.py /path/to/booksim
        [--k 2] [--n 3] [--traffic uniform] [--rate 0.5] [--routing anca] [--cycles 1000] [--scan]

Runs the oracle (by hand only: the project never calls it) once on a k-ary n-tree
(booksim_base.cfg plus the options, no warm-up, one sample of --cycles cycles) with every
flit watched (``watch_file``, ``watch_out=-``; the trace goes to a temporary folder), and
rebuilds from the trace, for every router output port, the credits in use: a flit counts
from the cycle its router sends it until 2 cycles after the next router's crossbar takes
it (``--scan`` prints the fit of the other windows).  For every up hop (a router that
sends a packet up) it prints how often the chosen port is a least used and a strictly most
used one of the k up ports, against what three rules would give on the same states:
a port at random (nca), the less used of two ports drawn at random with replacement (the
first on a tie), and the least used of all k.  With k = 2 it also prints the share of the
choices between two differently used ports that take the less used one (random 1/2, two
draws 3/4, all k 1), per level.  The figures of docs/design/noc.md §15b.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
EVENT = re.compile(r"^(\d+) \| network_0/router_level(\d+)_(\d+) \| (.*)$")
FRONT = re.compile(r"front: (\d+)")


def trace(oracle: str, args: argparse.Namespace) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        watch = Path(tmp) / "watch.txt"
        watch.write_text("\n".join(map(str, range(200_000))) + "\n")
        cmd = [oracle, str(HERE / "booksim_base.cfg"), "topology=fattree", f"k={args.k}",
               f"n={args.n}", f"routing_function={args.routing}", f"traffic={args.traffic}",
               f"injection_rate={args.rate}", f"watch_file={watch}", "watch_out=-",
               f"sample_period={args.cycles}", "max_samples=1", "warmup_periods=0"]
        return subprocess.run(cmd, capture_output=True, text=True, cwd=tmp).stdout


def hops(text: str) -> dict[int, list[dict]]:
    """Per flit, its hops in order: router, cycles of routing, crossbar and send, output."""
    path: dict[int, list[dict]] = defaultdict(list)
    at: dict[tuple, dict] = {}
    allocating = None
    for line in text.splitlines():
        m = EVENT.match(line)
        if not m:
            continue
        t, router, msg = int(m[1]), (int(m[2]), int(m[3])), m[4]
        if msg.startswith("Received flit"):
            flit = int(msg.split()[2])
            at[flit, router] = {"router": router}
            path[flit].append(at[flit, router])
        elif msg.startswith("Completed routing"):
            at[int(FRONT.search(msg)[1]), router]["route"] = t
        elif msg.startswith("Beginning VC allocation"):
            allocating = at[int(FRONT.search(msg)[1]), router]
            allocating.setdefault("requested", []).append(set())
        elif msg.startswith("  Requesting VC") and allocating is not None:
            allocating["requested"][-1].add(int(msg.split()[5]))
        elif msg.startswith("Beginning crossbar traversal"):
            at[int(msg.split()[5]), router]["xbar"] = t
        elif msg.startswith("Sending flit"):
            at[int(msg.split()[2]), router]["send"] = t
    return path


def choices(path: dict[int, list[dict]], k: int, lag: int = 0, credit: int = 2):
    """(level, credits in use on each up port at the routing cycle, chosen index) per up hop,
    and the number of packets whose VC requests at one router named two ports."""
    in_use = defaultdict(list)  # (router, port) -> [(from, until)]
    ups, changed = [], 0
    for hs in path.values():
        for i, h in enumerate(hs):
            if "send" not in h or not h.get("requested"):
                continue
            ports = {o for r in h["requested"] for o in r}
            if not ports:
                continue  # every VC of the port was taken at each attempt
            changed += len(ports) > 1
            out = ports.pop()
            if i + 1 < len(hs):
                in_use[h["router"], out].append((h["send"] + lag, hs[i + 1].get("xbar", 1 << 30) + credit))
            if out >= k:
                ups.append((h["router"], h["route"], out - k))
    states = [(router[0], [sum(a <= t < b for a, b in in_use[router, k + u]) for u in range(k)], c)
              for router, t, c in ups]
    return states, changed


def rule_shares(used: list[int]) -> dict[str, list[float]]:
    """Each rule's probability of taking each up port, given their credits in use."""
    k, low = len(used), min(used)
    two = [0.0] * k
    for a in range(k):
        for b in range(k):
            two[b if used[b] < used[a] else a] += 1 / k**2
    least = [(u == low) / used.count(low) for u in used]
    return {"random": [1 / k] * k, "two draws": two, "least of k": least}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("oracle", help="path of the BookSim2 binary")
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--n", type=int, default=3)
    parser.add_argument("--traffic", default="uniform")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--routing", default="anca", choices=["nca", "anca"])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--scan", action="store_true",
                        help="also fit other credit windows (send + lag .. crossbar + credit)")
    args = parser.parse_args()
    path = hops(trace(str(Path(args.oracle).resolve()), args))
    states, changed = choices(path, args.k)
    print(f"{args.k}-ary {args.n}-tree, {args.traffic} at {args.rate}, {args.routing}: "
          f"{len(states)} up hops; packets whose VC requests at one router named two ports: {changed}")
    low = sum(used[c] == min(used) for _, used, c in states)
    high = sum(used[c] == max(used) > min(used) for _, used, c in states)
    print(f"  observed: the chosen port is a least used one {low} times, a strictly most used one {high}")
    for rule in ("random", "two draws", "least of k"):
        exp_low = exp_high = 0.0
        for _, used, _ in states:
            p = rule_shares(used)[rule]
            exp_low += sum(q for q, u in zip(p, used) if u == min(used))
            exp_high += sum(q for q, u in zip(p, used) if u == max(used) > min(used))
        print(f"  {rule:10s}: expected {exp_low:.0f} and {exp_high:.0f}")
    if args.k == 2:
        windows = [(lag, credit) for lag in (-1, 0, 1) for credit in range(-1, 4)] if args.scan else [(0, 2)]
        for lag, credit in windows:
            per_level = defaultdict(lambda: [0, 0])
            for level, used, c in choices(path, args.k, lag, credit)[0]:
                if used[0] != used[1]:
                    per_level[level][0] += used[c] < used[1 - c]
                    per_level[level][1] += 1
            took = sum(s[0] for s in per_level.values())
            tried = sum(s[1] for s in per_level.values())
            levels = ", ".join(f"level {lv} {s[0]}/{s[1]}" for lv, s in sorted(per_level.items()))
            print(f"  window send{lag:+d} .. crossbar{credit:+d}: the less used of two differently "
                  f"used ports {took}/{tried} = {took / tried:.3f} ({levels})")


if __name__ == "__main__":
    main()
