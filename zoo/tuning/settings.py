"""The distributed search's timings and defaults, and keras-tuner's names for
a process's role. Plain constants: a command line checks its arguments with
them before TensorFlow loads."""

# How long a chief waits for a worker to reach its oracle, first and then
# between contacts. A training worker reports every HEARTBEAT_SECONDS, so a
# shorter bound than MIN_WORKER_TIMEOUT would end searches whose workers live.
HEARTBEAT_SECONDS = 30.0
DEFAULT_WORKER_TIMEOUT = 600.0
MIN_WORKER_TIMEOUT = 2 * HEARTBEAT_SECONDS
DEFAULT_ORACLE_HOST = "127.0.0.1"  # the oracle has no authentication: loopback unless asked
# keras-tuner's own way of giving a process its role; zoo reads them as
# --chief / --worker N / --oracle-host / --oracle-port.
ENV_TUNER_ID = "KERASTUNER_TUNER_ID"
ENV_ORACLE_IP = "KERASTUNER_ORACLE_IP"
ENV_ORACLE_PORT = "KERASTUNER_ORACLE_PORT"
