"""How every Kafka client of footfall reaches the cluster: the brokers, and the security a
managed cluster asks for (TLS with a CA file, SASL with PLAIN or SCRAM).

One settings object, built once from the configuration, that every client is made from
(the collector's producer, the processors' Faust app, the sink's consumer, the admin
calls), so a cluster that needs credentials needs them in one place and no client can be
left connecting in plain text by mistake.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
# host:port, comma separated; bounded so a configuration typo cannot become a huge list.
BOOTSTRAP_PATTERN = r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}(,[A-Za-z0-9.\-\[\]:]+:\d{1,5}){0,63}$"


class KafkaConnection(BaseModel):
    """The brokers and the security of the connection to them. The password is a SecretStr
    and the model hides input in its validation errors: neither its repr nor a refused
    configuration ever shows it."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    bootstrap: str = Field(default="127.0.0.1:9092", pattern=BOOTSTRAP_PATTERN)
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "PLAIN"
    sasl_username: str | None = Field(default=None, min_length=1, max_length=1000)
    sasl_password: SecretStr | None = None
    # TLS: the CA that signed the brokers' certificates (unset: the system's CAs), and a
    # client certificate and key for a cluster that authenticates clients by certificate.
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None

    @model_validator(mode="after")
    def _complete(self) -> "KafkaConnection":
        if self.uses_sasl and (self.sasl_username is None or self.sasl_password is None):
            raise ValueError(f"security protocol {self.security_protocol} needs FOOTFALL_KAFKA_SASL_USERNAME and FOOTFALL_KAFKA_SASL_PASSWORD")
        if not self.uses_ssl and any((self.ssl_cafile, self.ssl_certfile, self.ssl_keyfile)):
            raise ValueError(f"TLS files are set but the security protocol is {self.security_protocol}; use SSL or SASL_SSL")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("a client certificate needs both FOOTFALL_KAFKA_SSL_CERTFILE and FOOTFALL_KAFKA_SSL_KEYFILE")
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"FOOTFALL_KAFKA_{name.upper()} names {path}, which is not a file")
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def brokers(self) -> list[str]:
        return self.bootstrap.split(",")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context that verifies the brokers' certificates and host names."""
        if not self.uses_ssl:
            return None
        context = ssl.create_default_context(cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        if self.ssl_certfile is not None:
            context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile))
        return context

    def client_options(self) -> dict[str, Any]:
        """The keyword arguments every aiokafka client (producer, consumer, admin) takes."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.uses_ssl:
            options["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            assert self.sasl_password is not None  # checked in _complete
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password.get_secret_value(),
            )
        return options
