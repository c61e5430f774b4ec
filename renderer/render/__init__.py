"""render: the pipeline, the stream, the patcher, the generated Secret, the diff and redaction of
its output, and filters/ (one module per filter). It takes a stream and returns document pairs
(input, output, what changed); adapters, drift and Flux read the pairs."""
