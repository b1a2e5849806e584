"""The Faust worker that runs sessionisation and analytics over Kafka, built by processors.runtime.wiring."""
