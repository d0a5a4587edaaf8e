"""A real S3-compatible server for the tests: moto's standalone server, on loopback."""

import functools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

BUCKET = "vocation-tests"
REGION = "us-east-1"


@functools.cache
def s3_client(endpoint: str) -> Any:
    """A client that looks at the bucket directly, not through the storage under test."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    # Port 0: the OS picks a free port at bind time, so parallel runs cannot collide.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    s3_client(endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()
