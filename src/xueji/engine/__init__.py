"""The SpiffWorkflow adapter: parse, validate, run, serialize, and the script environment.

No FastAPI and no SQLAlchemy in this package: plain inputs in, dataclasses out.
"""
