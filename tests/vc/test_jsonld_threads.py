"""Canonicalising from many threads at once (request threads and job threads sign side by side):
pyld's processed-context caches are not thread-safe, so each thread keeps its own."""

from __future__ import annotations

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

from service.vc.jsonld import DocumentLoader, canonize

THREADS = 8
ROUNDS = 40


def test_threads_canonicalising_at_once_with_one_loader_all_get_the_same_answer(unsigned_credential):
    loader = DocumentLoader()
    expected = canonize(unsigned_credential, loader)

    def work(n: int) -> set[str]:
        answers = set()
        for i in range(ROUNDS):
            document = copy.deepcopy(unsigned_credential)
            document["name"] = f"variant {n}-{i % 3}"  # keep the caches busy with several shapes
            answers.add(canonize(document, loader) if i % 3 else canonize(unsigned_credential, loader))
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(work, range(THREADS)))

    assert all(expected in answers for answers in results)


def test_each_thread_has_its_own_processed_context_cache():
    """The race the test above can only catch by luck (it broke 1 issuance in 3,000 under the
    mixed soak): one cache used by two threads. Each thread gets its own, and keeps it."""
    loader = DocumentLoader()
    both_running = threading.Barrier(2)

    def cache_of_this_thread(_: int) -> int:
        both_running.wait(timeout=10)  # two threads for sure, not one running both calls
        cache = loader.context_resolver().shared_cache
        assert loader.context_resolver().shared_cache is cache
        return id(cache)

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(cache_of_this_thread, range(2))
    assert first != second
