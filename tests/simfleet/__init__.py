"""Real-component test infrastructure: OpenSSH servers, Docker engines and a
stand-in TGI image, arranged as a small fleet of "GPU hosts" on this machine.

See tests/infra/standin/README.md for the stand-in's knobs and `fixtures.py`
for the pytest fixtures.
"""
