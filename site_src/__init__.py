"""The report site: MkDocs hooks that read data/ and generate pages, charts and cost tables at build time.

Entry points: ``site_src.hooks`` (loaded by mkdocs.yml), ``site_src.serve.build`` / ``serve``,
``site_src.publish.publish``. Page content comes from ``site_src.pages``; numbers from ``site_src.analysis``.
"""
