"""Reading a TGI server log: why it died, and its lines without tracing's prefix (logs written here by hand in the
launcher's format)."""

from collector.fleet.server_log import failure_reason, log_message

OOM_LOG = """2024-08-01T10:00:00.000000Z  INFO hf_hub: Token file not found "/data/token"
2024-08-01T10:00:01.000000Z  INFO text_generation_launcher: Starting shard rank=0
2024-08-01T10:00:09.000000Z ERROR text_generation_launcher: Error when initializing model
Traceback (most recent call last):
  File "/opt/conda/bin/text-generation-server", line 8, in <module>
    sys.exit(app())
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.96 GiB.
2024-08-01T10:00:09.000000Z ERROR text_generation_launcher: Shard 0 failed to start
Error: ShardCannotStart
"""


def test_root_cause_beats_later_generic_errors():
    assert failure_reason(OOM_LOG) == "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.96 GiB."


def test_traceback_exception_line_when_no_known_cause():
    log = OOM_LOG.replace("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.96 GiB.",
                          "ValueError: unsupported rope scaling")
    assert failure_reason(log) == "ValueError: unsupported rope scaling"


def test_first_error_line_then_last_line():
    assert failure_reason("a\n2024-08-01T10:00:00Z ERROR x: Webserver Crashed\nb\n") == "Webserver Crashed"
    assert failure_reason("starting\nstill starting\n") == "still starting"
    assert failure_reason("") == "no log output"


def test_log_message_drops_time_level_and_target():
    assert log_message("2024-08-01T10:00:01.000000Z  INFO text_generation_launcher: Starting shard rank=0") == \
        "Starting shard rank=0"
    assert log_message("2024-08-01T10:00:01Z  INFO shard-manager: text_generation_launcher: Shard ready in 3.2s") \
        == "Shard ready in 3.2s"
    assert log_message("plain line") == "plain line"
