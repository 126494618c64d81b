"""Scraping /metrics in tests: the samples as a dictionary."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families


class Samples(dict[tuple[str, frozenset[tuple[str, str]]], float]):
    def get_value(self, name: str, **labels: str) -> float:
        """A sample's value, 0 when the series does not exist yet."""
        return self.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.items() if n == name and wanted <= set(ls))


async def scrape(http: httpx.AsyncClient, **headers: str) -> Samples:
    response = await http.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = Samples()
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples
