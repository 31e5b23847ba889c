"""The one storage contract, run against local disk and against S3: a real S3-protocol server
(moto's ThreadedMotoServer, a third-party implementation, on a free port of this host) through
boto3. Then the service itself keeps and serves an upload from the bucket."""

from __future__ import annotations

import hashlib

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.helpers import auth
from tests.uploads.test_endpoints import PDF, upload
from xueji.uploads.storage import LocalStorage, StorageError, storage_for

BUCKET = "xueji-uploads"
CREDENTIALS = {"s3_access_key_id": "test-key", "s3_secret_access_key": "test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    bucket_client(endpoint).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def bucket_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["s3_access_key_id"],
        aws_secret_access_key=CREDENTIALS["s3_secret_access_key"],
    )


def s3_settings(settings, endpoint: str, prefix: str = "uploads/"):
    return settings.model_copy(
        update={
            "upload_storage": "s3",
            "s3_bucket": BUCKET,
            "s3_endpoint_url": endpoint,
            "s3_prefix": prefix,
            **CREDENTIALS,
        }
    )


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path, settings):
    if request.param == "local":
        return LocalStorage(tmp_path)
    return storage_for(s3_settings(settings, request.getfixturevalue("s3_endpoint"), "contract/"))


def key_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_what_is_put_is_got_back(storage):
    content = "证明材料".encode() * 1000
    storage.put(key_of(content), content)
    assert storage.get(key_of(content)) == content


def test_putting_the_same_key_twice_keeps_one_file(storage):
    content = b"%PDF-1.7 same"
    storage.put(key_of(content), content)
    storage.put(key_of(content), content)
    assert storage.get(key_of(content)) == content


def test_a_missing_file_is_a_storage_error(storage):
    with pytest.raises(StorageError):
        storage.get(key_of(b"never stored"))


def test_a_key_that_is_not_a_sha256_is_refused(storage):
    for key in ("../../etc/passwd", "ABC", key_of(b"x")[:-1] + "/"):
        with pytest.raises(ValueError):
            storage.put(key, b"x")
        with pytest.raises(ValueError):
            storage.get(key)


def test_the_service_keeps_uploads_in_the_bucket(db, client, s3_endpoint, monkeypatch):
    monkeypatch.setattr(db, "settings", s3_settings(db.settings, s3_endpoint))
    content = PDF + b"% kept in the bucket only\n"
    body = upload(client, "stu1001", "证明.pdf", content)
    key = f"uploads/{body['sha256'][:2]}/{body['sha256']}"
    stored = bucket_client(s3_endpoint).get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == content
    assert not (db.settings.data_dir / "uploads" / body["sha256"][:2] / body["sha256"]).exists()
    served = client.get(f"/api/v1/uploads/{body['id']}/content", headers=auth(client, "stu1001"))
    assert served.status_code == 200 and served.content == content
