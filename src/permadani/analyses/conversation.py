"""Conversation vs shouting: does a community (an account) talk with people, or post at them?

Replies are non-self reply edges (core's ``reply_edges`` without ``is_self``). A thread is ``thread_id`` (the
post's own id when missing). Per account (platform, author_id) and per community (platform, community):

- reply_share = replies written / posts written (a post answering an absent parent is not a reply);
- replied_share = posts that received ≥ 1 reply / posts;
- back-and-forth: a chain A→B→A inside one thread: r₁ by B replies to a post of A, and r₂ by A replies to r₁
  (A ≠ B). bf_share = threads with such a chain / threads (community); for an account, threads where it is A or B
  of a chain / threads it posted in;
- reciprocity = reciprocated pairs / pairs, a pair {A, B} having a reply in either direction, reciprocated when it
  has replies both ways (per community within the community; per account over its partners on the platform);
- depth of a post = number of parent links up to its root (root 0; a parent missing from the data counts as one
  link and stops the chain); thread depth = max post depth. Computed engine-independently: each post's parent row
  by a hash join in a local DuckDB, then pointer jumping in numpy (⌈log₂ depth⌉ rounds); posts on a parent cycle
  get no depth and are counted. Posts are fetched in parts of at most ``DEPTH_CHUNK_ROWS`` (split by a hash of the
  thread), so memory stays bounded on big dumps.
- broadcasters: accounts with ≥ ``min_posts`` posts and reply_share < ``broadcast_share`` (0.1), ranked by posts,
  then replies received; conversationalists: ≥ ``min_posts`` posts, reply_share ≥ 0.5 and ≥ 1 back-and-forth
  thread, ranked by back-and-forth threads, then reciprocated partners.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .bootstrap import cluster_index
from .replies import join_on
from .structure import clean, quantile, sort_table

if TYPE_CHECKING:  # pragma: no cover
    from .context import AuditContext

MIN_POSTS = 20
BROADCAST_SHARE = 0.1
CONVERSE_SHARE = 0.5
MAX_ROUNDS = 40
#: posts fetched at once for the depth computation (~100 bytes each in memory).
DEPTH_CHUNK_ROWS = 20_000_000
#: DuckDB's cap for the parent join of one such part (it spills beyond it).
PARENT_JOIN_MEMORY = "2GB"
_NULL = "\x00"


def _thread(posts: ibis.Table) -> ibis.Value:
    return posts.thread_id.fill_null(posts.post_id)


def back_and_forth(edges: ibis.Table, one_platform: bool = False) -> ibis.Table:
    """Chains A→B→A: ``platform, community, thread_id, a, b`` (distinct), a = the account answered twice over.
    ``one_platform``: see ``replies.join_on``."""
    e = edges.filter(~edges.is_self)
    first = e.select("platform", "community", "thread_id", "post_id", a=e.target, b=e.replier)
    second = e.select(s_platform=e.platform, s_parent=e.parent_id, s_replier=e.replier)
    j = join_on(first, second, [("platform", "s_platform"), ("post_id", "s_parent"), ("a", "s_replier")],
                one_platform=one_platform)
    return j.select("platform", "community", "thread_id", "a", "b").distinct()


def directed_pairs(edges: ibis.Table) -> ibis.Table:
    """Distinct ``platform, community, replier, target`` of non-self replies (shared by the pair counts)."""
    e = edges.filter(~edges.is_self)
    return e.select("platform", "community", "replier", "target").distinct()


def _pairs(directed: ibis.Table, by: list[str]) -> ibis.Table:
    """Unordered pairs with a reply: ``*by, x, y, both`` (both = replies in the two directions)."""
    d = directed.select(*by, "replier", "target").distinct()
    p = d.select(*by, x=ibis.least(d.replier, d.target), y=ibis.greatest(d.replier, d.target))
    g = p.group_by([*by, "x", "y"]).aggregate(n_dir=p.count())
    return g.select(*by, "x", "y", both=(g.n_dir >= 2).cast("int64"))


def _left(left: ibis.Table, right: ibis.Table, keys: list[str], prefix: str) -> ibis.Table:
    """``left`` left-joined with ``right`` on ``keys`` (right keys renamed so join chains stay valid)."""
    renamed = right.select(**{(f"{prefix}{c}" if c in keys else c): right[c] for c in right.columns})
    return join_on(left, renamed, [(k, f"{prefix}{k}") for k in keys], how="left")


def community_stats(posts: ibis.Table, edges: ibis.Table, bf: ibis.Table | None = None,
                    directed: ibis.Table | None = None) -> ibis.Table:
    """Per (platform, community): posts, accounts, replies, self_replies, replied_posts, threads,
    threads_with_reply, bf_threads, pairs, reciprocated_pairs (all int64). ``bf``/``directed``: precomputed
    ``back_and_forth(edges)`` / ``directed_pairs(edges)`` (e.g. materialised once for both statistics)."""
    by = ["platform", "community"]
    p = posts.mutate(thread=_thread(posts))
    base = p.group_by(by).aggregate(posts=p.count().cast("int64"), accounts=p.author_id.nunique().cast("int64"),
                                    threads=p.thread.nunique().cast("int64"))
    e = edges
    conv = e.filter(~e.is_self)
    rep = e.group_by(by).aggregate(
        replies=(~e.is_self).cast("int64").sum().cast("int64"), self_replies=e.is_self.cast("int64").sum()
        .cast("int64"))
    replied = conv.group_by(by).aggregate(replied_posts=conv.parent_id.nunique().cast("int64"),
                                          threads_with_reply=conv.thread_id.nunique().cast("int64"))
    bf = back_and_forth(edges) if bf is None else bf
    bft = bf.group_by(by).aggregate(bf_threads=bf.thread_id.nunique().cast("int64"))
    pr = _pairs(directed_pairs(edges) if directed is None else directed, by)
    prs = pr.group_by(by).aggregate(pairs=pr.count().cast("int64"), reciprocated_pairs=pr.both.sum().cast("int64"))
    out = base
    for i, t in enumerate((rep, replied, bft, prs)):
        out = _left(out, t, by, f"k{i}_")
    cols = ["replies", "self_replies", "replied_posts", "threads_with_reply", "bf_threads", "pairs",
            "reciprocated_pairs"]
    return out.select(*by, "posts", "accounts", "threads", **{c: out[c].fill_null(0).cast("int64") for c in cols})


def account_stats(posts: ibis.Table, edges: ibis.Table, accounts: ibis.Table | None = None,
                  bf: ibis.Table | None = None, directed: ibis.Table | None = None) -> ibis.Table:
    """Per (platform, author_id): posts, threads, replies_given, replies_received, replied_posts, partners,
    reciprocated_partners, bf_threads (int64) and display_name (when ``accounts`` is given)."""
    by = ["platform", "author_id"]
    p = posts.filter(posts.author_id.notnull())
    p = p.mutate(thread=_thread(p))
    base = p.group_by(by).aggregate(posts=p.count().cast("int64"), threads=p.thread.nunique().cast("int64"))
    conv = edges.filter(~edges.is_self)
    given = conv.group_by(["platform", conv.replier.name("author_id")]).aggregate(
        replies_given=conv.count().cast("int64"))
    recv = conv.group_by(["platform", conv.target.name("author_id")]).aggregate(
        replies_received=conv.count().cast("int64"), replied_posts=conv.parent_id.nunique().cast("int64"))
    pr = _pairs(directed_pairs(edges) if directed is None else directed, ["platform"])
    ends = pr.select("platform", author_id=pr.x, both=pr.both).union(
        pr.select("platform", author_id=pr.y, both=pr.both))
    part = ends.group_by(by).aggregate(partners=ends.count().cast("int64"),
                                       reciprocated_partners=ends.both.sum().cast("int64"))
    bf = back_and_forth(edges) if bf is None else bf
    roles = bf.select("platform", "thread_id", author_id=bf.a).union(
        bf.select("platform", "thread_id", author_id=bf.b), distinct=True)
    bft = roles.group_by(by).aggregate(bf_threads=roles.thread_id.nunique().cast("int64"))
    out = base
    for i, t in enumerate((given, recv, part, bft)):
        out = _left(out, t, by, f"k{i}_")
    cols = ["replies_given", "replies_received", "replied_posts", "partners", "reciprocated_partners", "bf_threads"]
    out = out.select(*by, "posts", "threads", **{c: out[c].fill_null(0).cast("int64") for c in cols})
    if accounts is not None:
        names = accounts.select("platform", "author_id", "display_name")
        out = _left(out, names, by, "n_")
    return out


def post_links(posts: ibis.Table) -> ibis.Table:
    """The columns the depth computation needs: ``platform, community, thread, post_id, parent_id``."""
    return posts.select("platform", "community", "post_id", "parent_id", thread=_thread(posts))


def parent_rows(links: pa.Table) -> np.ndarray:
    """For each row of ``links``, the row of its parent post (same platform, ``post_id`` = its ``parent_id``; the
    first such row if there were several), else -1.

    A hash join in a local DuckDB on the Arrow columns, whatever the audit's engine: for 5M posts 0.8 s, where
    Arrow's ``index_in`` over joined ``platform + post_id`` strings took 2.1 s (bench/README.md, round 11).
    """
    n = links.num_rows
    rows = pa.table({"rn": pa.array(np.arange(n, dtype=np.int64)),  # DuckDB scans the chunks as they are
                     **{name: links.column(name).cast(pa.string()) for name in ("platform", "post_id", "parent_id")}})
    with tempfile.TemporaryDirectory(prefix="permadani-depths-") as spill:  # not DuckDB's default ./.tmp
        con = duckdb.connect(config={"memory_limit": PARENT_JOIN_MEMORY, "temp_directory": spill})
        try:
            con.register("rows", rows)
            found = con.sql("""
                SELECT c.rn AS child, min(p.rn) AS parent
                FROM rows c JOIN rows p ON c.platform = p.platform AND c.parent_id = p.post_id
                GROUP BY c.rn""").fetchnumpy()
        finally:
            con.close()
    anc = np.full(n, -1, dtype=np.int64)
    anc[np.asarray(found["child"], dtype=np.int64)] = np.asarray(found["parent"], dtype=np.int64)
    return anc


def post_depths(links: pa.Table) -> np.ndarray:
    """Depth of every post of ``links`` (float array, NaN on a parent cycle); definition in the module doc."""
    anc = parent_rows(links)
    has_parent = pc.is_valid(links.column("parent_id")).to_numpy(zero_copy_only=False)
    dist = has_parent.astype(np.int64)  # one link to the parent, present or not
    for _ in range(MAX_ROUNDS):
        live = anc >= 0
        if not live.any():
            break
        idx = np.nonzero(live)[0]
        up = anc[idx]
        dist[idx] = dist[idx] + dist[up]
        anc[idx] = anc[up]
    depth = dist.astype(float)
    depth[anc >= 0] = np.nan
    return depth


def thread_depths(links: pa.Table) -> tuple[pa.Table, int]:
    """(``platform, community, thread, depth`` per thread = max post depth, posts on cycles)."""
    depth = post_depths(links)
    cyclic = int(np.isnan(depth).sum())
    t = pa.table({"platform": links.column("platform"), "community": links.column("community"),
                  "thread": links.column("thread"), "depth": pa.array(depth, mask=np.isnan(depth))})
    t = t.filter(pc.is_valid(t.column("depth")))
    g = t.group_by(["platform", "community", "thread"]).aggregate([("depth", "max")])
    g = g.rename_columns(["platform", "community", "thread", "depth"])
    return g.set_column(3, "depth", g.column("depth").cast(pa.int64())), cyclic


def chunked_thread_depths(posts: ibis.Table, execute: Any, chunk_rows: int = DEPTH_CHUNK_ROWS
                          ) -> tuple[pa.Table, int]:
    """``thread_depths`` in bounded memory: posts are split into ⌈rows / chunk_rows⌉ parts by a hash of their
    thread and each part is fetched and measured on its own (a dataset under ``chunk_rows`` posts is one part).
    With several parts, a parent recorded in another thread counts as missing (one link, chain stops)."""
    n = execute(posts.aggregate(n=posts.count())).column("n")[0].as_py() or 0
    parts = max(1, -(-int(n) // chunk_rows))
    links = post_links(posts)
    if parts == 1:
        return thread_depths(execute(links))
    bucket = links.thread.hash() % parts
    tables, cyclic = [], 0
    for i in range(parts):
        part, cyc = thread_depths(execute(links.filter((bucket == i) | (bucket == -i))))
        tables.append(part)
        cyclic += cyc
    return pa.concat_tables(tables), cyclic


def depth_histogram(threads: pa.Table) -> pa.Table:
    """``platform, community, depth, threads``: how many threads reach each depth."""
    h = threads.group_by(["platform", "community", "depth"]).aggregate([("thread", "count")])
    h = h.rename_columns(["platform", "community", "depth", "threads"])
    return sort_table(h, ["platform", "community", "depth"])


def _ratio(num: pa.ChunkedArray, den: pa.ChunkedArray) -> pa.Array:
    n = num.to_numpy(zero_copy_only=False).astype(float)
    d = den.to_numpy(zero_copy_only=False).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(d > 0, n / np.where(d > 0, d, 1), np.nan)
    return pa.array(r, pa.float64(), mask=~(d > 0))


def group_quantiles(table: pa.Table, by: list[str], column: str, qs: tuple[float, ...]) -> pa.Table:
    """``*by, q0, q1, …``: linear-interpolated quantiles (as ``numpy.quantile``) of ``column`` per group, computed
    in one sort: position p = q·(m − 1) in the group's sorted values v, value = v⌊p⌋ + (p − ⌊p⌋)·(v⌈p⌉ − v⌊p⌋)."""
    if table.num_rows == 0:
        return pa.table({**{b: table.column(b).slice(0, 0) for b in by},
                         **{f"q{i}": pa.array([], pa.float64()) for i in range(len(qs))}})
    t = table.sort_by([*[(b, "ascending") for b in by], (column, "ascending")])
    gid = cluster_index(*[t.column(b) for b in by])  # sorted input: ids increase with the groups
    values = t.column(column).to_numpy(zero_copy_only=False).astype(float)
    start = np.searchsorted(gid, np.arange(int(gid.max()) + 1), side="left")
    size = np.diff(np.append(start, gid.size))
    out = {b: t.column(b).take(pa.array(start)) for b in by}
    for i, q in enumerate(qs):
        pos = q * (size - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, size - 1)
        a, b = values[start + lo], values[start + hi]
        out[f"q{i}"] = pa.array(a + (pos - lo) * (b - a), pa.float64())
    return pa.table(out)


def finish_communities(stats: pa.Table, threads: pa.Table) -> pa.Table:
    """Add shares and depth quantiles (median, p90, max over threads) to executed ``community_stats``."""
    s = stats
    for name, num, den in (("reply_share", "replies", "posts"), ("replied_share", "replied_posts", "posts"),
                           ("bf_share", "bf_threads", "threads"), ("reciprocity", "reciprocated_pairs", "pairs")):
        s = s.append_column(name, _ratio(s.column(num), s.column(den)))
    q = group_quantiles(threads, ["platform", "community"], "depth", (0.5, 0.9, 1.0))
    def keyed(t: pa.Table) -> pa.Table:  # null communities match each other (Arrow joins never match nulls)
        return t.set_column(t.column_names.index("community"), "community",
                            pc.fill_null(t.column("community").cast(pa.string()), _NULL))

    j = keyed(s.select(["platform", "community"])).append_column("_row", pa.array(np.arange(s.num_rows), pa.int64()))
    j = j.join(keyed(q), ["platform", "community"], join_type="left outer").sort_by("_row")
    for name, qname in (("depth_median", "q0"), ("depth_p90", "q1"), ("depth_max", "q2")):
        s = s.append_column(name, j.column(qname).cast(pa.float64()))
    return sort_table(s, ["platform", "community"])


def finish_accounts(stats: pa.Table, min_posts: int = MIN_POSTS, broadcast_share: float = BROADCAST_SHARE
                    ) -> pa.Table:
    """Add shares and the broadcaster / conversationalist flags to executed ``account_stats``."""
    s = stats
    for name, num, den in (("reply_share", "replies_given", "posts"), ("replied_share", "replied_posts", "posts"),
                           ("bf_share", "bf_threads", "threads"),
                           ("reciprocity", "reciprocated_partners", "partners")):
        s = s.append_column(name, _ratio(s.column(num), s.column(den)))
    posts = s.column("posts").to_numpy(zero_copy_only=False)
    share = s.column("reply_share").to_numpy(zero_copy_only=False)
    bf = s.column("bf_threads").to_numpy(zero_copy_only=False)
    enough = posts >= min_posts
    s = s.append_column("broadcaster", pa.array(enough & (share < broadcast_share)))
    s = s.append_column("conversationalist", pa.array(enough & (share >= CONVERSE_SHARE) & (bf >= 1)))
    return sort_table(s, ["platform", "author_id"])


def ranked(accounts: pa.Table, flag: str, top: int = 20) -> list[dict[str, Any]]:
    """The ``top`` flagged accounts: broadcasters by (posts, replies received) desc, conversationalists by
    (bf_threads, reciprocated partners) desc; ties by platform, author_id."""
    t = accounts.filter(accounts.column(flag))
    order = [("posts", "descending"), ("replies_received", "descending")] if flag == "broadcaster" else \
        [("bf_threads", "descending"), ("reciprocated_partners", "descending")]
    t = t.sort_by([*order, ("platform", "ascending"), ("author_id", "ascending")]).slice(0, top)
    keep = [c for c in ("platform", "author_id", "display_name", "posts", "replies_given", "replies_received",
                        "reply_share", "bf_threads", "reciprocity") if c in t.column_names]
    return clean(t.select(keep).to_pylist())


def summarise(communities: pa.Table, accounts: pa.Table, threads: pa.Table, cyclic: int,
              min_posts: int = MIN_POSTS, broadcast_share: float = BROADCAST_SHARE) -> dict[str, Any]:
    """Headline numbers: totals over communities, depth quantiles, broadcaster and conversationalist lists."""
    def total(name: str) -> int:
        return int(sum(communities.column(name).to_pylist())) if communities.num_rows else 0

    def share(a: str, b: str) -> float | None:
        return total(a) / total(b) if total(b) else None

    depth = threads.column("depth").to_numpy(zero_copy_only=False).astype(float) if threads.num_rows else \
        np.empty(0)
    return clean({
        "posts": total("posts"), "replies": total("replies"), "self_replies": total("self_replies"),
        "reply_share": share("replies", "posts"), "replied_share": share("replied_posts", "posts"),
        "threads": total("threads"), "bf_threads": total("bf_threads"), "bf_share": share("bf_threads", "threads"),
        "pairs": total("pairs"), "reciprocated_pairs": total("reciprocated_pairs"),
        "reciprocity": share("reciprocated_pairs", "pairs"),
        "thread_depth": {"median": quantile(depth, 0.5), "p90": quantile(depth, 0.9),
                         "max": float(depth.max()) if depth.size else None},
        "posts_on_parent_cycles": cyclic,
        "communities": communities.num_rows,
        "broadcaster_rule": f">= {min_posts} posts and reply share < {broadcast_share}",
        "conversationalist_rule": f">= {min_posts} posts, reply share >= {CONVERSE_SHARE}, >= 1 back-and-forth",
        "broadcasters": int(pc.sum(accounts.column("broadcaster")).as_py() or 0),
        "conversationalists": int(pc.sum(accounts.column("conversationalist")).as_py() or 0),
        "top_broadcasters": ranked(accounts, "broadcaster", 10),
        "top_conversationalists": ranked(accounts, "conversationalist", 10),
    })


def compute(posts: ibis.Table, edges: ibis.Table, execute: Any, accounts: ibis.Table | None = None,
            min_posts: int = MIN_POSTS, broadcast_share: float = BROADCAST_SHARE, materialize: Any = None,
            one_platform: bool = False) -> tuple[dict[str, pa.Table], dict[str, Any]]:
    """Tables ``conversation_communities``, ``conversation_accounts``, ``conversation_depth`` and the summary.

    ``materialize`` (e.g. ``Engine.materialize``) computes the intermediate tables both statistics share once;
    ``one_platform``: see ``replies.join_on``.
    """
    bf, directed = back_and_forth(edges, one_platform), directed_pairs(edges)
    if materialize is not None:
        bf, directed = materialize(bf), materialize(directed)
    comm = execute(community_stats(posts, edges, bf, directed))
    acc = execute(account_stats(posts, edges, accounts, bf, directed))
    threads, cyclic = chunked_thread_depths(posts, execute)
    communities = finish_communities(comm, threads)
    accs = finish_accounts(acc, min_posts, broadcast_share)
    tables = {"conversation_communities": communities, "conversation_accounts": accs,
              "conversation_depth": depth_histogram(threads)}
    return tables, summarise(communities, accs, threads, cyclic, min_posts, broadcast_share)


def run(ctx: AuditContext) -> Any:
    """Section ``conversation``."""
    from .context import SectionResult

    p = ctx.params
    tables, summary = compute(ctx.posts, ctx.edges, ctx.execute, ctx.accounts,
                              int(getattr(p, "broadcaster_min_posts", MIN_POSTS)),
                              float(getattr(p, "broadcaster_share", BROADCAST_SHARE)), ctx.scratch,
                              ctx.one_platform)
    return SectionResult(tables=tables, summary=summary)
