"""The report site: MkDocs hooks that read data/ and generate pages, charts and cost tables at build time.

Entry points: ``site_src.hooks`` (loaded by mkdocs.yml), ``site_src.serve.build`` / ``serve``,
``site_src.publish.publish``. Page content comes from ``site_src.pages``; numbers from ``site_src.analysis``.
The serving view (vllm bench serve, sglang.bench_serving runs) has its own modules: ``serving_data`` (runs to
per-model series), ``serving_analysis`` (throughput, cost, Pareto front, like-for-like checks), ``serving_rows``
(table and chart rows), ``serving_charts`` and ``serving_target`` (specs), ``serving_pages`` and
``serving_methodology`` (pages and the counts Methodology states).
"""
