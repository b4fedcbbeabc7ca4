"""greenlet/gevent instrumentation, one concern per module (installed by ``greenlet_hooks``)."""


