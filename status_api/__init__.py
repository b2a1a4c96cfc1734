"""The Litestar status API: IIB's REST API v1 backed by recorded PipelineRuns."""
