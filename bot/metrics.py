"""Prometheus metrics, in a registry of the bot's own (so tests can build several)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "medianest_commands_total",
            "App commands handled, by command and outcome (ok, error, internal_error).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.command_latency = Histogram(
            "medianest_command_seconds",
            "Time from the interaction's creation to the end of its handler.",
            ["command"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30),
            registry=self.registry,
        )
        self.errors = Counter(
            "medianest_errors_total", "Errors shown to users, by code.", ["code"], registry=self.registry
        )
        self.breaker_open = Gauge(
            "medianest_circuit_open",
            "1 while the circuit breaker of an integration is open.",
            ["integration"],
            registry=self.registry,
        )
        self.gateway_latency = Gauge(
            "medianest_gateway_latency_seconds", "Discord gateway heartbeat latency.", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
