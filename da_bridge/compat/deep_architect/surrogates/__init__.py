"""`deep_architect.surrogates`: `SurrogateModel`, `extract_features`, `HashingSurrogate`,
`DummySurrogate`."""
