"""The asyncio hooks, one concern per module; installed by ``asynctrace.asyncio_hooks``."""
