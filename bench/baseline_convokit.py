"""Baseline: the benchmark question (``_question.py``) answered with ConvoKit, as a ConvoKit user would.

Reads the Pushshift ``.zst`` line by line, builds one ``Utterance`` per comment (speaker, conversation = link,
reply_to = parent comment, timestamp, text, score in meta), builds a ``Corpus``, then walks the corpus objects
to compute statuses, tiers and the answered replies. Run it with the ConvoKit venv (``bench/.venv-convokit``,
see README) so that ConvoKit's dependencies never enter permadani's environment::

    bench/.venv-convokit/bin/python bench/baseline_convokit.py bench/data/RC_synth_500k.zst

Prints one JSON line: the tier matrix, ``rows``, ``seconds_read``, ``seconds_corpus``, ``seconds_question``.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _question import WINDOW_S, assign_tiers, empty_matrix, known, records, result


def main(path: str) -> None:
    from convokit import Corpus, Speaker, Utterance

    began = time.perf_counter()
    speakers: dict[str, Speaker] = {}
    utterances = []
    for rec in records(path):
        name = rec.author or "[deleted]"
        speaker = speakers.get(name)
        if speaker is None:
            speaker = speakers[name] = Speaker(id=name)
        utterances.append(Utterance(
            id=rec.id, speaker=speaker, conversation_id=rec.link or rec.id, reply_to=rec.parent,
            timestamp=rec.t, text=rec.text, meta={"score": rec.score, "subreddit": rec.subreddit}))
    read_done = time.perf_counter()
    corpus = Corpus(utterances=utterances)
    del utterances
    corpus_done = time.perf_counter()

    status: dict[str, float] = defaultdict(float)
    children: dict[str, list[str]] = defaultdict(list)
    for utt in corpus.iter_utterances():
        if known(utt.speaker.id):
            status[utt.speaker.id] += utt.meta["score"]
        if utt.reply_to is not None:
            children[utt.reply_to].append(utt.id)
    tiers = assign_tiers(status)
    matrix = empty_matrix()
    for utt in corpus.iter_utterances():
        if utt.reply_to is None or not corpus.has_utterance(utt.reply_to):
            continue
        replier, target = utt.speaker.id, corpus.get_utterance(utt.reply_to).speaker.id
        if not (known(replier) and known(target)) or replier == target:
            continue
        answered = any(
            (child := corpus.get_utterance(c)).speaker.id == target and child.timestamp - utt.timestamp <= WINDOW_S
            for c in children.get(utt.id, ()))
        cell = matrix[f"{tiers[replier]}->{tiers[target]}"]
        cell[0] += 1
        cell[1] += int(answered)
    done = time.perf_counter()
    print(result(matrix, tool="convokit", rows=len(corpus.utterances), seconds_read=round(read_done - began, 2),
                 seconds_corpus=round(corpus_done - read_done, 2), seconds_question=round(done - corpus_done, 2)))


if __name__ == "__main__":
    main(sys.argv[1])
