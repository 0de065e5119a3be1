"""Benchmark: search at a bureau's scale — not a test.

    python bench/search_scale.py --records 1000000      # 100,000 parties, 20,000 cases
    python bench/search_scale.py --records 50000 --runs 30   # a quick, smaller run first

A generator builds a store through the library's event path (``Draft`` events appended
with ``archive.journal.append`` and folded with ``archive.index.apply`` in large
batches; not the CLI, no blobs: digests are synthetic, search never reads blobs):
``--records`` records over six years, ``records / 10`` parties and ``records / 50``
cases (stages, decisions, publications, closings), officers with body cameras (a tenth
changing camera once), import batches, re-sightings, records linked to their case and
stage, a few linked to a party alone, and the rest unlinked patrol footage. Names,
identity numbers (valid check digits), addresses and case numbers are realistic
Chinese ones for 湛江 (Zhanjiang).

Then it reports, for each query type, p50/p95/max of ``search(archive, Query(...))``
on an open archive (``--runs`` different queries each, the types interleaved): case
exact, party name of 2 and of 3+ characters, address substring (a street; a whole
district), officer + a month, the unlinked queue, and more; the index's size in bytes per
record (with the largest tables, from ``dbstat``); and the time to rebuild the index
from the journal (``recordkeep.index.rebuild``) in events per second.

Targets: p95 <= 10 ms exact and filtered lookups, <= 100 ms any text query;
index <= 1.5 KB per record; rebuild >= 20,000 events/s. Results: bench/results/
search_scale.json (and the machine), recorded by hand in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common as c
from stdnum.cn import ric, uscc

from recordkeep import Archive
from recordkeep.index import rebuild
from recordkeep.refs import fold_case_no
from recordkeep.search import Query, search
from recordkeep.store.journal import Draft

ZONE = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2019, 1, 1, tzinfo=ZONE)
YEARS = 6
TARGET_LOOKUP_MS, TARGET_TEXT_MS, TARGET_BYTES, TARGET_EVENTS_S = 10.0, 100.0, 1500, 20_000

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
            "戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华文辉建国志强海燕玉兰春梅红梅金凤国庆"
         "俊峰晓东少华振华永强德明家豪子轩雨涵梓涵浩然宇航欣怡思远佳琪嘉怡一鸣志伟")
DISTRICTS = {  # 区县: (区划代码, 执法局简称, 镇街)
    "赤坎区": ("440802", "赤", ("中华街道", "寸金街道", "民主街道", "中山街道", "沙湾街道", "调顺街道")),
    "霞山区": ("440803", "霞", ("解放街道", "爱国街道", "工农街道", "友谊街道", "新兴街道", "海滨街道")),
    "坡头区": ("440804", "坡", ("南调街道", "麻斜街道", "南三镇", "坡头镇", "乾塘镇", "龙头镇")),
    "麻章区": ("440811", "麻", ("麻章镇", "湖光镇", "太平镇", "东山街道", "民安街道", "硇洲镇")),
    "遂溪县": ("440823", "遂", ("遂城镇", "黄略镇", "洋青镇", "界炮镇", "乐民镇", "江洪镇")),
    "徐闻县": ("440825", "徐", ("徐城街道", "下桥镇", "龙塘镇", "前山镇", "西连镇", "海安镇")),
    "廉江市": ("440881", "廉", ("罗州街道", "城南街道", "城北街道", "石城镇", "新民镇", "安铺镇")),
    "雷州市": ("440882", "雷", ("雷城街道", "西湖街道", "新城街道", "白沙镇", "沈塘镇", "客路镇")),
    "吴川市": ("440883", "吴", ("梅菉街道", "博铺街道", "海滨街道", "塘㙍镇", "黄坡镇", "王村港镇")),
}
ROADS = ("人民大道", "海滨大道", "南调路", "椹川大道", "观海路", "建设路", "解放路", "中山路", "康宁路",
         "海田路", "疏港大道", "湖光路", "龙潘路", "育才路", "金沙路", "文明路", "跃进路", "民主路",
         "东风路", "友谊路", "新华路", "和平路", "工农路", "府前路", "体育路", "华港路", "乐山路")
INDUSTRIES = ("建筑工程", "餐饮管理", "物流", "房地产开发", "贸易", "广告传媒", "装饰工程", "水产",
              "农产品", "汽车销售", "五金建材", "环保科技", "物业管理", "酒店", "食品")
BRAND = "海港湾粤南兴华盛达鑫源宏泰恒通顺利德丰富嘉宝联众诚信和"
VIOLATIONS = ("违法建设", "占道经营", "擅自设置户外广告", "未按规定倾倒建筑垃圾", "噪声扰民", "破坏绿化",
              "违规排放污水", "乱张贴", "擅自占用城市道路", "露天焚烧", "未按规定处置餐厨垃圾",
              "擅自搭建构筑物", "运输渣土沿途撒漏", "违规停放车辆")
DOC_TYPES = {"start": ("立案审批表", "案件来源登记表"),
             "investigate": ("现场检查笔录", "询问笔录", "证据先行登记保存通知书", "查封扣押决定书",
                             "责令改正通知书", "现场照片"),
             "decide": ("法制审核意见书", "集体讨论记录", "行政处罚事先告知书", "听证告知书",
                        "行政处罚决定书"),
             "serve": ("送达回证", "催告书", "强制执行决定书", "结案报告")}
ACTIONS = {"start": ("立案", "受理举报"), "investigate": ("现场检查", "询问", "查封扣押", "强制拆除", "勘验"),
           "decide": ("法制审核", "集体讨论", "听证"), "serve": ("送达", "强制执行", "公示")}
NOTES = ("当事人在场，已告知权利义务", "现场拍照取证", "当事人拒绝签字，见证人在场", "责令当事人限期改正",
         "两名执法人员出示执法证件", "当事人陈述申辩", "经复查已整改完毕", "邮寄送达", "留置送达")
PENALTIES = (("warning", None), ("fine", (200, 50000)), ("fine", (5000, 300000)), ("confiscate", None),
             ("suspend", None), ("other", None))


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds")


def fake_digest(n: int) -> str:
    """A uniformly spread 64-hex digest (the bytes behind it do not exist)."""
    return hashlib.blake2b(n.to_bytes(8, "big"), digest_size=32).hexdigest()


# -- the world -------------------------------------------------------------------------
class World:
    """Deterministic synthetic bureau: officers, devices, parties, cases, records."""

    def __init__(self, records: int, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.n_records = records
        self.n_parties = max(10, records // 10)
        self.n_cases = max(5, records // 50)
        self.span = (START.replace(year=START.year + YEARS) - START).total_seconds()
        self.officers = [f"4408{self.rnd.randrange(10**7):07d}" for _ in range(max(20, records // 3300))]
        self.officers = sorted(set(self.officers))
        self.devices: dict[str, list[tuple[float, str]]] = {}  # officer -> [(from_s, device)]
        dev = 0
        for officer in self.officers:
            dev += 1
            self.devices[officer] = [(0.0, f"DSJ{dev:04d}")]
            if self.rnd.random() < 0.1:
                dev += 1
                self.devices[officer].append((self.rnd.uniform(0.2, 0.8) * self.span, f"DSJ{dev:04d}"))
        self._ids: set[str] = set()

    def when(self, seconds: float) -> dt.datetime:
        return START + dt.timedelta(seconds=seconds)

    def work_time(self) -> float:
        """Seconds since START of a random working moment (07:00-21:00)."""
        day = self.rnd.randrange(int(self.span // 86400))
        return day * 86400 + self.rnd.uniform(7 * 3600, 21 * 3600)

    def device_of(self, officer: str, seconds: float) -> str:
        current = self.devices[officer][0][1]
        for start, device in self.devices[officer]:
            if seconds >= start:
                current = device
        return current

    # parties
    def person(self, key: str) -> dict:
        rnd = self.rnd
        name = rnd.choice(SURNAMES) + (rnd.choice(GIVEN) if rnd.random() < 0.3
                                       else rnd.choice(GIVEN) + rnd.choice(GIVEN))
        district = rnd.choice(list(DISTRICTS))
        while True:
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=rnd.randrange(50 * 365))
            body = f"{DISTRICTS[district][0]}{birth:%Y%m%d}{rnd.randrange(1000):03d}"
            number = body + ric.calc_check_digit(body + "X")  # it skips the last character
            if number not in self._ids:
                self._ids.add(number)
                break
        return {"key": key, "kind": "person", "name": name, "id_number": number,
                "address": self.address(district), "phone": f"13{rnd.randrange(10**9):09d}"}

    def organisation(self, key: str, n: int) -> dict:
        rnd = self.rnd
        district = rnd.choice(list(DISTRICTS))
        name = (f"湛江市{rnd.choice(BRAND)}{rnd.choice(BRAND)}{rnd.choice(INDUSTRIES)}有限公司"
                if rnd.random() < 0.8 else f"{district}{rnd.choice(BRAND)}{rnd.choice(BRAND)}商行")
        body = f"91{DISTRICTS[district][0]}MA{n:07d}"  # 17 characters, then the check
        return {"key": key, "kind": "organisation", "name": name,
                "credit_code": body + uscc.calc_check_digit(body), "address": self.address(district),
                "phone": f"0759-{rnd.randrange(10**7):07d}"}

    def address(self, district: str) -> str:
        town = self.rnd.choice(DISTRICTS[district][2])
        return f"广东省湛江市{district}{town}{self.rnd.choice(ROADS)}{self.rnd.randrange(1, 400)}号"

    # records
    def record(self, n: int, seconds: float, officer: str, kind: str, doc_type: str | None,
               batch: str) -> dict:
        rnd = self.rnd
        moment = self.when(seconds)
        recorded = iso(moment)
        device = self.device_of(officer, seconds)
        important = rnd.random() < 0.03
        data: dict = {"batch": batch, "digest": "blake3:" + fake_digest(n), "kind": kind,
                      "recorded_at": recorded, "officer": officer, "device": device, "important": important}
        stamp = moment.strftime("%Y%m%d%H%M%S")
        if kind == "video":
            name = f"{device}_{officer}_{stamp}_{n % 10000:04d}{'_IMP' if important else ''}.MP4"
            data["media"] = {"probe_status": "ok", "container": "mp4",
                             "duration_ms": rnd.randrange(5_000, 1_800_000), "video_codec": "h264",
                             "audio_codec": "aac", "width": 1920, "height": 1080, "frame_rate": "30/1",
                             "recorded_at": recorded, "make": "DemoCam", "model": "DSJ-V8",
                             "serial": f"V8{device}", "officer": officer,
                             "gps_lat": f"21.{rnd.randrange(100000, 300000)}",
                             "gps_lon": f"110.{rnd.randrange(200000, 500000)}"}
            data["size"] = rnd.randrange(20 << 20, 900 << 20)
        elif kind == "audio":
            name = f"{device}_{officer}_{stamp}_{n % 10000:04d}.WAV"
            data["media"] = {"probe_status": "ok", "container": "wav",
                             "duration_ms": rnd.randrange(10_000, 900_000), "audio_codec": "pcm_s16le"}
            data["size"] = rnd.randrange(1 << 20, 80 << 20)
        elif kind == "photo":
            name = f"{device}_{officer}_{stamp}_{n % 10000:04d}.JPG"
            data["media"] = {"probe_status": "ok", "width": 4000, "height": 3000, "recorded_at": recorded,
                             "make": "DemoCam", "model": "DSJ-V8"}
            data["size"] = rnd.randrange(2 << 20, 8 << 20)
        else:
            name = f"{doc_type or '扫描件'}_{moment:%Y%m%d}_{n % 1000:03d}.pdf"
            data["media"] = {"probe_status": "ok", "pages": rnd.randrange(1, 12)}
            data["size"] = rnd.randrange(100_000, 5_000_000)
            data["doc_type"] = doc_type
            del data["device"]
        data["source"] = {"path": f"DCIM/100{device[-4:]}/{name}" if kind != "document" else f"扫描/{name}",
                          "mtime": iso(moment + dt.timedelta(minutes=rnd.randrange(1, 600)))}
        data["time_source"] = "metadata"
        data["officer_source"] = "name" if kind != "document" else "flag"
        return data


def timeline(world: World) -> Iterator[tuple[float, int, str, dict]]:
    """Every happening as (seconds since START, order, event type, data), unsorted."""
    rnd = world.rnd
    n_rec = 0
    # officers and their cameras, first
    for officer in world.officers:
        yield (-2.0, 0, "officer.registered", {"cert_no": officer,
                                                "name": rnd.choice(SURNAMES) + rnd.choice(GIVEN),
                                                "unit": "湛江市城市管理和综合执法局"})
        for start, device in world.devices[officer]:
            data = {"device": device, "officer": officer}
            if start:
                data["from"] = iso(world.when(start))
            yield (start or -1.0, 0, "device.assigned", data)
    # parties: a quarter with cases, the rest registered on their own
    party_time: list[float] = []
    for i in range(world.n_parties):
        key = f"P{i + 1}"
        data = world.organisation(key, i) if rnd.random() < 0.2 else world.person(key)
        party_time.append(0.0)
        yield None, i, "party.added", data  # time fixed below (keys must rise with time)
    case_numbers: dict[tuple[str, int], int] = {}
    cases = []
    for _ in range(world.n_cases):
        t = world.work_time()
        k = 1 if rnd.random() < 0.85 else rnd.choice((2, 2, 3))
        parties = sorted({rnd.randrange(world.n_parties) for _ in range(k)})
        cases.append((t, parties))
    cases.sort()
    for t, parties in cases:
        first = parties[0]
        party_time[first] = min(party_time[first] or t, t - 3600)
        for p in parties[1:]:
            party_time[p] = min(party_time[p] or t, t - 3600)
    for i in range(world.n_parties):
        if not party_time[i]:
            party_time[i] = world.work_time()
    order = sorted(range(world.n_parties), key=lambda i: party_time[i])
    rank = {p: r for r, p in enumerate(order)}  # party i gets key P{rank+1}: keys rise with time
    yield ("parties", rank, party_time)  # type: ignore[misc]  (consumed by generate())
    # cases, stages, decisions, linked records
    for t, parties in cases:
        district = rnd.choice(list(DISTRICTS))
        year = world.when(t).year
        seq = case_numbers[(district, year)] = case_numbers.get((district, year), 0) + 1
        case_no = f"{DISTRICTS[district][1]}城管罚〔{year}〕{seq}号"
        keys = [f"P{rank[p] + 1}" for p in parties]
        pair = rnd.sample(world.officers, 2)
        title = f"{{{keys[0]}}}{rnd.choice(VIOLATIONS)}案"  # {P..} replaced by the party's name
        yield (t, 1, "case.opened", {"case_no": case_no, "case_key": fold_case_no(case_no), "title": title,
                                     "parties": keys, "officers": pair, "at": iso(world.when(t))})
        offsets = {"start": 0.0, "investigate": rnd.uniform(0.5, 5) * 86400,
                   "decide": rnd.uniform(10, 40) * 86400, "serve": rnd.uniform(45, 70) * 86400}
        for stage, off in offsets.items():
            at = t + off
            if at >= world.span:  # "now" is the end of the span: later stages have not happened
                break
            yield (at, 2, "case.stage", {"case_no": case_no, "stage": stage, "at": iso(world.when(at)),
                                         "officers": pair, "on_site": stage == "investigate",
                                         "action": rnd.choice(ACTIONS[stage]), "note": rnd.choice(NOTES)})
            digests = []
            if stage == "investigate":
                for _ in range(rnd.randrange(4, 30)):
                    n_rec += 1
                    kind = rnd.choices(("video", "photo", "audio"), (70, 25, 5))[0]
                    digests.append(n_rec)
                    yield (at + rnd.uniform(0, 7200), 3, "record", (n_rec, pair[0], kind, None))
            for _ in range(rnd.randrange(1, 3)):
                n_rec += 1
                digests.append(n_rec)
                yield (at + rnd.uniform(0, 3 * 86400), 3, "record",
                       (n_rec, pair[0], "document", rnd.choice(DOC_TYPES[stage])))
            link = {"case_no": case_no, "stage": stage, "digests": digests}
            if len(keys) > 1 and stage == "investigate":
                link["party"] = rnd.choice(keys)
            yield (at + 4 * 86400, 4, "record.linked", link)
        dec = t + offsets["decide"] + 3600
        if rnd.random() < 0.9 and dec + 8 * 86400 < world.span:
            pk, amount = rnd.choice(PENALTIES)
            for key in keys:
                data = {"case_no": case_no, "party": key, "penalty_kind": pk, "at": iso(world.when(dec))}
                if amount:
                    data["amount"] = f"{rnd.randrange(*amount)}.{rnd.randrange(100):02d}"
                yield (dec, 5, "case.decided", data)
            yield (dec + rnd.uniform(1, 7) * 86400, 5, "case.published",
                   {"case_no": case_no, "at": iso(world.when(dec + 86400))})
        close = t + offsets["serve"] + rnd.uniform(5, 30) * 86400
        if close < world.span:
            yield (close, 6, "case.closed", {"case_no": case_no, "at": iso(world.when(close))})
    # patrol footage and loose scans: the rest, unlinked; some linked to a party alone
    while n_rec < world.n_records:
        n_rec += 1
        t = world.work_time()
        kind = rnd.choices(("video", "photo", "audio", "document"), (75, 15, 5, 5))[0]
        doc = rnd.choice(DOC_TYPES["investigate"]) if kind == "document" else None
        yield (t, 3, "record", (n_rec, rnd.choice(world.officers), kind, doc))
        if rnd.random() < 0.01:
            p = rnd.randrange(world.n_parties)
            later = max(t, party_time[p]) + 86400
            yield (later, 4, "record.linked", {"party": f"P{rank[p] + 1}", "digests": [n_rec]})


def generate(archive: Archive, world: World, batch_events: int, say: Callable[[str], None]) -> int:
    """Append the world's events in time order, ``batch_events`` per append + apply."""
    t0 = time.perf_counter()
    happenings, parties, rank, times = [], {}, None, None
    for item in timeline(world):
        if item[0] == "parties":
            _, rank, times = item
            continue
        if item[2] == "party.added":
            parties[item[1]] = item[3]
            continue
        happenings.append(item)
    names = {}
    for i, data in parties.items():
        key = f"P{rank[i] + 1}"
        data["key"] = key
        names[key] = data["name"]
        happenings.append((times[i], 0, "party.added", data))
    happenings.sort(key=lambda h: (h[0], h[1]))
    say(f"  {len(happenings):,} happenings planned in {time.perf_counter() - t0:.1f} s")
    rnd = world.rnd
    total, pending, batch_id, in_batch, seen = 0, [], None, 0, []
    last_t = 0.0

    def flush() -> None:
        nonlocal total, pending
        if not pending:
            return
        at = iso(world.when(max(last_t, 0) + 3600))
        events = archive.journal.append(pending, actor=rnd.choice(("clerk@station1", "clerk@station2",
                                                                     "li@station3")),
                                        at=at, expect_head=archive.index.head.hash)
        archive.index.apply(events)
        total += len(events)
        pending = []

    def end_batch() -> None:
        nonlocal batch_id, in_batch
        if batch_id:
            receipt = {"seen": in_batch, "stored": in_batch, "present": 0, "not_stored": 0,
                       "verdict": "may_wipe"}
            pending.append(Draft("batch.finished", {"batch": batch_id, "command": "import",
                                                    "source": "/media/clerk/card",
                                                    "options": {"readback": True}, "receipt": receipt}))
        batch_id, in_batch = None, 0

    for t, _, kind, data in happenings:
        last_t = t
        if kind == "record":
            n, officer, rkind, doc = data
            if batch_id is None:
                batch_id = hashlib.md5(f"batch{n}".encode()).hexdigest()
            pending.append(Draft("record.imported", world.record(n, t, officer, rkind, doc, batch_id)))
            in_batch += 1
            if rnd.random() < 0.02:
                seen.append(n)
            if in_batch >= 200:
                for s in seen:  # the same files found again on a later card
                    source = {"path": f"备份/{s:08d}.MP4", "mtime": iso(world.when(t))}
                    pending.append(Draft("record.seen", {"digest": "blake3:" + fake_digest(s),
                                                         "batch": batch_id, "source": source}))
                seen = []
                end_batch()
        else:
            if kind == "record.linked":
                data = {**data, "digests": ["blake3:" + fake_digest(n) for n in data["digests"]]}
            if kind == "case.opened":
                data["title"] = data["title"].format_map(names)
            pending.append(Draft(kind, data))
        if len(pending) >= batch_events:
            flush()
            if total % (batch_events * 20) < batch_events:
                say(f"  {total:,} events, {time.perf_counter() - t0:.0f} s")
    end_batch()
    flush()
    return total


# -- measuring -------------------------------------------------------------------------
def sample(conn: sqlite3.Connection, sql: str, n: int, rnd: random.Random) -> list:
    rows = [r[0] for r in conn.execute(sql)]
    rnd.shuffle(rows)
    return rows[:n] or [None]


def query_plan(archive: Archive, runs: int, rnd: random.Random) -> dict[str, tuple[str, list[Query]]]:
    """Per query type: its class ("lookup" or "text") and ``runs`` different queries."""
    conn = archive.index.conn
    cases = sample(conn, "SELECT case_no FROM cases ORDER BY random() LIMIT 1000", runs, rnd)
    two = sample(conn, "SELECT name FROM parties WHERE length(name) = 2 ORDER BY random() LIMIT 1000",
                 runs, rnd)
    three = sample(conn, "SELECT name FROM parties WHERE length(name) >= 3 AND kind = 'person' "
                         "ORDER BY random() LIMIT 1000", runs, rnd)
    orgs = sample(conn, "SELECT name FROM parties WHERE kind = 'organisation' ORDER BY random() LIMIT 1000",
                  runs, rnd)
    addresses = sample(conn, "SELECT address FROM parties ORDER BY random() LIMIT 1000", runs, rnd)
    keys = sample(conn, "SELECT party FROM case_parties ORDER BY random() LIMIT 1000", runs, rnd)
    officers = sample(conn, "SELECT cert_no FROM officers", runs, rnd)
    devices = sample(conn, "SELECT DISTINCT device FROM devices", runs, rnd)
    names = sample(conn, "SELECT name FROM records WHERE kind = 'video' ORDER BY random() LIMIT 1000",
                   runs, rnd)

    def street(address: str) -> str:  # the road and number: "南调路12号"
        for road in ROADS:
            if road in address:
                return address[address.index(road):]
        return address[-6:]

    def month(i: int) -> tuple[str, str]:
        day = START.date() + dt.timedelta(days=rnd.randrange(YEARS * 365 - 31))
        return day.isoformat(), (day + dt.timedelta(days=30)).isoformat()

    def half_width(case_no: str) -> str:
        return case_no.replace("〔", "[").replace("〕", "]")

    def number_part(case_no: str) -> str:
        return case_no[case_no.index("〔"):]  # "〔2021〕12号": every district's case of that number

    plan = {
        "case exact (--case, half-width brackets)": ("lookup", [Query(case=half_width(x)) for x in cases]),
        "officer + 30 days": ("lookup", [Query(officer=o, since=month(i)[0], until=month(i)[1])
                                         for i, o in enumerate(officers * runs)][:runs]),
        "unlinked queue (--unlinked)": ("lookup", [Query(unlinked=True)] * runs),
        "unlinked + officer": ("lookup", [Query(unlinked=True, officer=o) for o in (officers * runs)[:runs]]),
        "party filter (--party P)": ("lookup", [Query(party=k) for k in keys]),
        "device + kind + important": ("lookup", [Query(device=d, kind="video", important=True)
                                                 for d in (devices * runs)[:runs]]),
        "no arguments (newest)": ("lookup", [Query()] * runs),
        "party name, 2 characters": ("text", [Query(text=x) for x in two]),
        "party name, 3+ characters": ("text", [Query(text=x) for x in three]),
        "organisation name": ("text", [Query(text=x) for x in orgs]),
        "address substring (street)": ("text", [Query(text=street(a)) for a in addresses]),
        "address substring (district)": ("text", [Query(text=d) for d in (list(DISTRICTS) * runs)[:runs]]),
        "case number in text (〔2021〕12号)": ("text", [Query(text=number_part(x)) for x in cases]),
        "case number in text, half-width": ("text", [Query(text=half_width(x)) for x in cases]),
        "file name substring": ("text", [Query(text=n[7:22]) for n in names]),
        "doc type, 2 characters (笔录)": ("text", [Query(text="笔录")] * runs),
        "text + officer filter": ("text", [Query(text=d, officer=o)
                                           for d, o in zip((list(DISTRICTS) * runs)[:runs],
                                                           (officers * runs)[:runs], strict=True)]),
    }
    return plan


def time_queries(archive: Archive, plan: dict[str, tuple[str, list[Query]]]) -> list[dict]:
    """Interleave the query types; p50/p95/max milliseconds of ``search`` per type."""
    timings: dict[str, list[float]] = {name: [] for name in plan}
    hits: dict[str, list[int]] = {name: [] for name in plan}
    for _, queries in plan.values():  # one untimed pass: the page cache is warm
        search(archive, queries[0])
    runs = max(len(q) for _, q in plan.values())
    for i in range(runs):
        for name, (_, queries) in plan.items():
            if i >= len(queries):
                continue
            t0 = time.perf_counter()
            result = search(archive, queries[i])
            timings[name].append((time.perf_counter() - t0) * 1000)
            hits[name].append(len(result["records"]) + len(result["parties"]) + len(result["cases"]))
    out = []
    for name, (klass, _) in plan.items():
        ms = sorted(timings[name])
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        target = TARGET_LOOKUP_MS if klass == "lookup" else TARGET_TEXT_MS
        out.append({"query": name, "class": klass, "runs": len(ms), "p50_ms": round(statistics.median(ms), 2),
                    "p95_ms": round(p95, 2), "max_ms": round(ms[-1], 2),
                    "median_hits": statistics.median(hits[name]), "target_ms": target,
                    "met": p95 <= target})
    return out


def time_cli(root: Path, runs: int, plan: dict[str, tuple[str, list[Query]]]) -> list[dict]:
    """Wall time of `recordkeep search ... --json` as a new process (what a clerk waits for)."""
    cli = [sys.executable, str(c.REPO / "cli.py"), "--store", str(root), "search"]
    picks = {"case exact (--case, half-width brackets)", "unlinked queue (--unlinked)",
             "party name, 2 characters", "address substring (district)", "file name substring"}
    out = []
    baseline = [c.run([sys.executable, "-c", "pass"]) for _ in range(3)]
    for name, (klass, queries) in plan.items():
        if name not in picks:
            continue
        times = []
        for q in queries[:runs]:
            argv = list(cli)
            for flag in ("case", "party", "officer", "device", "since", "until", "stage", "kind"):
                if getattr(q, flag):
                    argv += [f"--{flag}", getattr(q, flag)]
            argv += ["--important"] * q.important + ["--unlinked"] * q.unlinked + ["--json"]
            if q.text:
                argv += ["--", q.text]
            times.append(c.run(argv) * 1000)
        times.sort()
        out.append({"query": name, "class": klass, "runs": len(times),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[min(len(times) - 1, round(0.95 * (len(times) - 1)))], 1),
                    "python_startup_ms": round(statistics.median(baseline) * 1000, 1)})
        print(f"  cli {name:<40} p50 {out[-1]['p50_ms']:>7.1f} ms  p95 {out[-1]['p95_ms']:>7.1f} ms "
              f"(python -c pass: {out[-1]['python_startup_ms']} ms)", flush=True)
    return out


def time_rebuilds(archive: Archive, tmp: Path, say: Callable[[str], None], variants: bool) -> dict:
    """``recordkeep.index.rebuild`` from the journal, as index/core.py has it; with ``variants``
    also without m004 (the search tables and triggers)."""
    import recordkeep.index as ix

    def once(label: str) -> dict:
        target = tmp / "rebuilt.sqlite"
        t0 = time.perf_counter()
        events = rebuild(archive.journal, target)
        took = time.perf_counter() - t0
        size = target.stat().st_size
        target.unlink()
        rate = events / took
        say(f"rebuild ({label}): {events:,} events in {took:.1f} s = {rate:,.0f} events/s, "
            f"{size / 1e6:,.0f} MB (target >= {TARGET_EVENTS_S:,}: "
            f"{'MET' if rate >= TARGET_EVENTS_S else 'MISSED'})")
        return {"events": events, "seconds": round(took, 1), "events_per_s": round(rate), "bytes": size,
                "target_events_per_s": TARGET_EVENTS_S, "met": rate >= TARGET_EVENTS_S}

    out = {"as_is": once("as index/core.py has it"), "journal_bytes": archive.journal.size()}
    if not variants:
        return out
    saved = list(ix.migrations.steps)
    ix.migrations.steps[:] = [m for m in saved if m.__name__ != "m004_search"]
    try:
        out["without_m004"] = once("without m004_search")
    finally:
        ix.migrations.steps[:] = saved
    return out


def index_size(path: Path, records: int) -> dict:
    """Bytes of index.sqlite per record, and the largest tables and indexes (dbstat)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        size = path.stat().st_size
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")
            rows = rows.fetchall()
        except sqlite3.OperationalError:
            rows = []
    finally:
        conn.close()
    return {"bytes": size, "records": records, "bytes_per_record": round(size / max(records, 1), 1),
            "target_bytes_per_record": TARGET_BYTES, "met": size / max(records, 1) <= TARGET_BYTES,
            "largest": [{"name": n, "bytes": b, "per_record": round(b / max(records, 1), 1)}
                        for n, b in rows[:16]]}


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem, 1),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "system": platform.platform()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records (parties = /10, cases = /50)")
    ap.add_argument("--runs", type=int, default=50, help="different queries per query type (default 50)")
    ap.add_argument("--batch", type=int, default=20_000, help="events per append + apply (default 20000)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--store", help="use (or build, when absent) the store here; kept afterwards")
    ap.add_argument("--no-rebuild", action="store_true", help="skip the rebuild measurement")
    ap.add_argument("--rebuild-variants", action="store_true",
                    help="also rebuild without the search tables, to show what they cost")
    ap.add_argument("--cli-runs", type=int, default=10,
                    help="end-to-end runs of `recordkeep search` (a new process each) per query type")
    ap.add_argument("--workdir", help="parent of the temporary store (default beside the repository)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary store")
    ap.add_argument("--json-out", help="default bench/results/search_scale.json")
    args = ap.parse_args()

    def say(text: str) -> None:
        print(text, flush=True)

    results: dict = {"bench": "search_scale", "machine": machine(),
                     "when": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
                     "args": {k: v for k, v in vars(args).items() if k != "json_out"}}
    with c.workdir("search-scale", args.workdir, keep=args.keep) as tmp:
        root = Path(args.store) if args.store else tmp / "store"
        if not (root / "recordkeep.toml").exists():
            say(f"building {args.records:,} records into {root}")
            Archive.init(root, actor="bench@search").close()
            with Archive.open(root, actor="bench@search") as archive:
                # the generator's own settings (rebuild below is measured as index/core.py has it)
                archive.index.conn.execute("PRAGMA synchronous=OFF")
                archive.index.conn.execute("PRAGMA cache_size=-1000000")
                t0 = time.perf_counter()
                events = generate(archive, World(args.records, args.seed), args.batch, say)
                took = time.perf_counter() - t0
                archive.index.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            results["generate"] = {"events": events, "seconds": round(took, 1),
                                   "events_per_s": round(events / took)}
            say(f"generated {events:,} events in {took:.0f} s ({events / took:,.0f} events/s, "
                "journal append + live index apply)")
        with Archive.open(root, actor="bench@search") as archive:
            conn = archive.index.conn
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("records", "sightings", "parties", "cases", "links", "events")}
            results["counts"] = counts
            say("counts: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            results["index"] = index_size(archive.root / "index.sqlite", counts["records"])
            say(f"index: {results['index']['bytes'] / 1e6:,.0f} MB, "
                f"{results['index']['bytes_per_record']:,.0f} bytes per record (target <= {TARGET_BYTES})")
            for row in results["index"]["largest"]:
                say(f"    {row['name']:<34} {row['bytes'] / 1e6:>9,.1f} MB  "
                    f"{row['per_record']:>7,.1f} B/record")
            plan = query_plan(archive, args.runs, random.Random(args.seed))
            results["queries"] = time_queries(archive, plan)
            say(f"\n{'query':<40} {'class':<6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'hits':>6}  target")
            for q in results["queries"]:
                say(f"{q['query']:<40} {q['class']:<6} {q['p50_ms']:>8.2f} {q['p95_ms']:>8.2f} "
                    f"{q['max_ms']:>8.2f} {q['median_hits']:>6}  <= {q['target_ms']:.0f}: "
                    f"{'MET' if q['met'] else 'MISSED'}")
            if args.cli_runs:
                results["cli"] = time_cli(root, args.cli_runs, plan)
            if not args.no_rebuild:
                results["rebuild"] = time_rebuilds(archive, tmp, say, args.rebuild_variants)
    out = Path(args.json_out) if args.json_out else c.RESULTS / "search_scale.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    say(f"\nresults written to {out}")


if __name__ == "__main__":
    main()
