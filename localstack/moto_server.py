#!/usr/bin/env python3
"""moto 5.2.1's server, the independent AWS emulator of the as-deployed suite, made to follow AWS's documentation
where the code under test depends on it and moto does not (docs/local-runs.md lists each addition with its page).

moto is not ours and stays as published; this launcher only adds, before the server starts:

IAM authorization (moto checks it with INITIAL_NO_AUTH_ACTION_COUNT, but authorizes most services against the
resource "*", so a policy scoped to a table or a secret, as every policy of the CDK stack is, would match nothing):
  - DynamoDB: each request is authorized on its table's ARN (an index's ARN for a query of an index), a batch on
    every table it names (Service Authorization Reference, Amazon DynamoDB: resource types table and index);
  - Secrets Manager: on the secret's ARN; EventBridge PutEvents: on each entry's event bus ARN; Lambda: on the
    function's or the event source mapping's ARN;
  - S3: the action names AWS documents per API where moto uses others: HeadObject and GetObjectTagging of a
    version are s3:GetObjectVersion and s3:GetObjectVersionTagging, PutObjectTagging and DeleteObjectTagging are
    s3:PutObjectTagging / s3:DeleteObjectTagging (s3:Put/DeleteObjectVersionTagging with a versionId); a copy
    (CopyObject, UploadPartCopy) also needs to read its source (s3:GetObject, s3:GetObjectVersion for a version,
    and for CopyObject, whose tagging directive is COPY by default, s3:GetObjectTagging / GetObjectVersionTagging);
    a request that sets tags (x-amz-tagging) also needs s3:PutObjectTagging;
  - a signature is checked against the canonical query SigV4 defines (every value escaped), where moto takes the query
    as it arrived and refuses a request whose values hold an unescaped "/";
  - SQS's batch actions are authorized as their single forms (sqs:DeleteMessage for DeleteMessageBatch: SQS Developer
    Guide, "Amazon SQS batch actions"), where moto asks for permissions that cannot be granted;
  - an AccessDenied names the principal, the action and the resource, as AWS's own message does ("User: <arn> is
    not authorized to perform: <action> on resource: "<arn>" because no identity-based policy allows the <action>
    action"), so a test can say which grant is missing.
S3 event notifications (S3 User Guide, "Event message structure"):
  - a completed multipart upload is one s3:ObjectCreated:CompleteMultipartUpload event (moto adds a Put);
  - every record carries the object's versionId (versioned buckets) and a sequencer, and eventTime in ISO-8601
    with a Z, as S3's records do (moto's have neither and a time without a zone);
  - a DeleteObject on a versioned bucket sends s3:ObjectRemoved:DeleteMarkerCreated with the marker's version id
    (moto sends nothing);
  - s3:ObjectTagging:Put/Delete only for the tagging APIs, not for tags set with the object at its creation.
S3 Object Lock: a CopyObject that sets a lock needs no Content-MD5 (PutObject's rule; CopyObject has no body and no
Content-MD5 member), where moto refuses it.
S3 object metadata (S3 User Guide, "Working with object metadata", Last-Modified): a multipart object's
Last-Modified is when its upload was initiated, not completed; listings keep each key's versions in the order
they were written, newest first, whatever their Last-Modified says.

Usage: python3 moto_server.py -p PORT  (the arguments of python3 -m moto.server); INITIAL_NO_AUTH_ACTION_COUNT as moto.
"""

import json
import re
import sys
import threading
from datetime import datetime, timezone
from urllib.parse import quote, quote_plus, unquote

import moto.core.authorization as authorization
import moto.iam.access_control as access_control
import moto.s3.models as s3_models
import moto.s3.notifications as notifications
import moto.s3.responses as s3_responses
from moto.awslambda.responses import LambdaResponse
from moto.core.exceptions import AccessDeniedError, JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.events.responses import EventsHandler
from moto.s3.exceptions import S3ClientError
from moto.secretsmanager.models import secretsmanager_backends
from moto.secretsmanager.responses import SecretsManagerResponse
from moto.utilities.utils import get_partition


# ---------------------------------------------------------------- AccessDenied as AWS words it

def _denied_message(principal, action, resource):
    return (f'User: {principal} is not authorized to perform: {action} on resource: "{resource}" '
            f"because no identity-based policy allows the {action} action")


_original_check = access_control.IAMRequestBase.check_action_permitted


def _check_action_permitted(self, resource):
    self._denied_resource = resource
    return _original_check(self, resource)


access_control.IAMRequestBase.check_action_permitted = _check_action_permitted

# SQS's batch actions are authorized as their single forms ("You cannot set permissions explicitly for SendMessageBatch,
# DeleteMessageBatch, or ChangeMessageVisibilityBatch": SQS Developer Guide, sqs-batch-api.html); moto asks for the batch names.
_SQS_BATCH_ACTIONS = {"sqs:SendMessageBatch": "sqs:SendMessage", "sqs:DeleteMessageBatch": "sqs:DeleteMessage",
                      "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility"}
_original_request_init = access_control.IAMRequestBase.__init__


def _request_init(self, *args, **kwargs):
    _original_request_init(self, *args, **kwargs)
    self._action = _SQS_BATCH_ACTIONS.get(self._action, self._action)


access_control.IAMRequestBase.__init__ = _request_init

# A query value may reach the server with characters the client left unescaped ("prefix=a/b"); SigV4's canonical query
# escapes every name and value but unreserved characters (IAM User Guide, "Create a signed AWS API request"), so the
# signature is checked against the query so escaped (moto takes the query as it arrived, and refuses such requests).
_original_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request(self):
    path, _, query = self._path.partition("?")
    if query:
        pairs = []
        for pair in query.split("&"):
            name, equals, value = pair.partition("=")
            pairs.append(quote(unquote(name), safe="-_.~") + (("=" + quote(unquote(value), safe="-_.~")) if equals else ""))
        original, self._path = self._path, path + "?" + "&".join(pairs)
        try:
            return _original_create_aws_request(self)
        finally:
            self._path = original
    return _original_create_aws_request(self)


access_control.IAMRequestBase._create_aws_request = _create_aws_request


class _AccessDenied(AccessDeniedError):
    def __init__(self, principal, action, resource):
        super().__init__(user_arn=principal, action=action)
        self.description = self.description.replace(
            f"User: {principal} is not authorized to perform: {action}", _denied_message(principal, action, resource))


class _S3AccessDenied(S3ClientError):
    def __init__(self, principal, action, resource):
        super().__init__("AccessDenied", _denied_message(principal, action, resource))


# Services whose protocol is JSON answer a JSON error (moto answers every service but S3 and EC2 in IAM's XML).
_JSON_SERVICES = {"dynamodb": 400, "secretsmanager": 400, "events": 400, "sqs": 400, "lambda": 403}


class _JsonAccessDenied(JsonRESTError):
    def __init__(self, status, principal, action, resource):
        self.code = status
        super().__init__("AccessDeniedException", _denied_message(principal, action, resource))


def _raise_denied(self):
    resource = getattr(self, "_denied_resource", "*")
    if self._service in _JSON_SERVICES:
        raise _JsonAccessDenied(_JSON_SERVICES[self._service], self._access_key.arn, self._action, resource)
    raise _AccessDenied(self._access_key.arn, self._action, resource)


def _raise_s3_denied(self):
    raise _S3AccessDenied(self._access_key.arn, self._action, getattr(self, "_denied_resource", "*"))


access_control.IAMRequest._raise_access_denied = _raise_denied
access_control.S3IAMRequest._raise_access_denied = _raise_s3_denied


# ---------------------------------------------------------------- resource-level authorization of other services

def _arn(handler, service, resource):
    return f"arn:{get_partition(handler.region)}:{service}:{handler.region}:{handler.current_account}:{resource}"


def _json_body(handler):
    if isinstance(handler.body, dict):  # DynamoDB's handler has parsed it already
        return handler.body
    try:
        return json.loads(handler.body or "{}")
    except (TypeError, ValueError):
        return {}


def _authorize_each(resources_of):
    """Authorizes the request on every resource it names (moto's default authorizes it once, on "*")."""
    def authorize(self, resource="*"):
        for each in resources_of(self) or ["*"]:
            authorization.ActionAuthenticatorMixin._authenticate_and_authorize_normal_action(self, each)
    return authorize


def _dynamodb_resources(handler):
    body = _json_body(handler)
    tables = []
    for field in ("RequestItems",):
        tables += list(body.get(field, {}).keys())
    for item in body.get("TransactItems", []):
        for operation in item.values():
            tables.append(operation.get("TableName"))
    if "TableName" in body:
        table = _arn(handler, "dynamodb", f"table/{body['TableName']}")
        return [f"{table}/index/{body['IndexName']}" if body.get("IndexName") else table]
    return [_arn(handler, "dynamodb", f"table/{name}") for name in tables if name]


def _secret_resources(handler):
    secret_id = _json_body(handler).get("SecretId")
    if not secret_id:
        return []
    if secret_id.startswith("arn:"):
        return [secret_id]
    backend = secretsmanager_backends[handler.current_account][handler.region]
    try:
        return [backend.describe_secret(secret_id).arn]
    except Exception:  # an unknown secret: AWS authorizes on the ARN the name would have
        return [_arn(handler, "secretsmanager", f"secret:{secret_id}")]


def _event_bus_resources(handler):
    buses = []
    for entry in _json_body(handler).get("Entries", []):
        bus = entry.get("EventBusName") or "default"
        buses.append(bus if bus.startswith("arn:") else _arn(handler, "events", f"event-bus/{bus}"))
    return buses


def _lambda_resources(handler):
    path = unquote(handler.path)
    mapping = re.search(r"/event-source-mappings/([\w-]+)", path)
    if mapping:
        return [_arn(handler, "lambda", f"event-source-mapping:{mapping.group(1)}")]
    function = re.search(r"/functions/([^/]+)", path)
    if function:
        name = function.group(1)
        return [name if name.startswith("arn:") else _arn(handler, "lambda", f"function:{name}")]
    return []


DynamoHandler._authenticate_and_authorize_normal_action = _authorize_each(_dynamodb_resources)
SecretsManagerResponse._authenticate_and_authorize_normal_action = _authorize_each(_secret_resources)
EventsHandler._authenticate_and_authorize_normal_action = _authorize_each(_event_bus_resources)
LambdaResponse._authenticate_and_authorize_normal_action = _authorize_each(_lambda_resources)


# ---------------------------------------------------------------- S3 actions as AWS names them

_original_set_action = s3_responses.S3Response._set_action


def _set_action(self, resource_type, method, querystring):
    _original_set_action(self, resource_type, method, querystring)
    if resource_type != "KEY":
        return
    version = "versionId" in querystring
    if "tagging" in querystring:
        verb = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}.get(method)
        if verb:
            self.data["Action"] = f"{verb}Object{'Version' if version else ''}Tagging"
    elif method == "HEAD" and version:
        self.data["Action"] = "GetObjectVersion"


s3_responses.S3Response._set_action = _set_action

_original_authorize_s3 = authorization.ActionAuthenticatorMixin._authenticate_and_authorize_s3_action


def _authorize_s3(self, bucket_name=None, key_name=None):
    _original_authorize_s3(self, bucket_name=bucket_name, key_name=key_name)
    if not key_name or self.method not in ("PUT", "POST"):
        return
    action = self.data.get("Action")
    checks = []
    copy_source = self.headers.get("x-amz-copy-source")
    if copy_source and self.method == "PUT" and action == "PutObject":
        source, _, query = unquote(copy_source).lstrip("/").partition("?")
        versioned = "versionId=" in query
        checks.append(("GetObjectVersion" if versioned else "GetObject", source))
        upload_part = "partNumber" in self.querystring
        if not upload_part and self.headers.get("x-amz-tagging-directive", "COPY").upper() == "COPY":
            checks.append(("GetObjectVersionTagging" if versioned else "GetObjectTagging", source))
    if self.headers.get("x-amz-tagging") and action == "PutObject":
        checks.append(("PutObjectTagging", f"{bucket_name}/{key_name}"))
    for extra_action, target in checks:
        self.data["Action"] = extra_action
        try:
            self._authenticate_and_authorize_action(
                access_control.S3IAMRequest, f"arn:{get_partition(self.region)}:s3:::{target}")
        finally:
            self.data["Action"] = action


authorization.ActionAuthenticatorMixin._authenticate_and_authorize_s3_action = _authorize_s3


# ---------------------------------------------------------------- S3 event notifications as S3 sends them

_sequence = [0x5F000000000000]
_sequence_lock = threading.Lock()
_events = threading.local()


def _next_sequencer():
    with _sequence_lock:
        _sequence[0] += 1
        return f"{_sequence[0]:016X}"


def _s3_event(event_name, bucket, key, notification_id):
    now = datetime.now(timezone.utc)
    obj = {"key": quote_plus(key.name), "sequencer": _next_sequencer()}
    if not isinstance(key, s3_models.FakeDeleteMarker):
        obj["size"] = key.size
        obj["eTag"] = key.etag.replace('"', "")
    if bucket.is_versioned and getattr(key, "version_id", None):
        obj["versionId"] = str(key.version_id)
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": bucket.region_name,
        "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "eventName": event_name[3:],
        "userIdentity": {"principalId": "AWS:EMULATED"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "EMULATED", "x-amz-id-2": "EMULATED"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": notification_id,
               "bucket": {"name": bucket.name, "ownerIdentity": {"principalId": "EMULATED"}, "arn": bucket.arn},
               "object": obj},
    }]}


notifications._get_s3_event = _s3_event

_original_send_event = notifications.send_event
_TAGGING_EVENTS = (notifications.S3NotificationEvent.OBJECT_TAGGING_PUT_EVENT,
                   notifications.S3NotificationEvent.OBJECT_TAGGING_DELETE_EVENT)


def _send_event(account_id, event_name, bucket, key):
    if event_name in _TAGGING_EVENTS and not getattr(_events, "tagging_api", False):
        return  # tags set with the object at its creation are part of its ObjectCreated event
    if event_name == notifications.S3NotificationEvent.OBJECT_CREATED_PUT_EVENT and getattr(_events, "completing", False):
        return  # a completed upload is one ObjectCreated:CompleteMultipartUpload, not a Put as well
    _original_send_event(account_id, event_name, bucket, key)


notifications.send_event = _send_event


def _tagging_api(response_method):
    def call(self, *args, **kwargs):
        _events.tagging_api = True
        try:
            return response_method(self, *args, **kwargs)
        finally:
            _events.tagging_api = False
    return call


s3_responses.S3Response.put_object_tagging = _tagging_api(s3_responses.S3Response.put_object_tagging)
s3_responses.S3Response.delete_object_tagging = _tagging_api(s3_responses.S3Response.delete_object_tagging)

_original_delete_object = s3_models.S3Backend.delete_object


def _delete_object(self, bucket_name, key_name, version_id=None, bypass=False):
    deleted, meta = _original_delete_object(self, bucket_name, key_name, version_id=version_id, bypass=bypass)
    if deleted and version_id is None and meta.get("delete-marker") == "true":
        bucket = self.get_bucket(bucket_name)
        marker = next((k for k in bucket.keys.getlist(key_name, []) if str(k.version_id) == meta.get("version-id")), None)
        if marker is not None:
            notifications.send_event(self.account_id,
                                     notifications.S3NotificationEvent.OBJECT_REMOVED_DELETE_MARKER_CREATED_EVENT,
                                     bucket, marker)
    return deleted, meta


s3_models.S3Backend.delete_object = _delete_object


# ---------------------------------------------------------------- a multipart object's Last-Modified

_original_multipart_init = s3_models.FakeMultipart.__init__


def _multipart_init(self, *args, **kwargs):
    _original_multipart_init(self, *args, **kwargs)
    self.initiated = s3_models.utcnow()


s3_models.FakeMultipart.__init__ = _multipart_init

_original_complete = s3_models.S3Backend.complete_multipart_upload


def _complete_multipart_upload(self, bucket_name, multipart_id, body):
    multipart = self.get_bucket(bucket_name).multiparts.get(multipart_id)
    _events.completing = True
    try:
        key = _original_complete(self, bucket_name, multipart_id, body)
    finally:
        _events.completing = False
    if key is not None and multipart is not None:
        # Reported as the upload's initiation; moto's own last_modified (completion) keeps the listing's version order.
        key.reported_last_modified = multipart.initiated
    return key


s3_models.S3Backend.complete_multipart_upload = _complete_multipart_upload


def _reported(key):
    return getattr(key, "reported_last_modified", None) or key.last_modified


s3_models.FakeKey.last_modified_ISO8601 = property(
    lambda self: s3_models.iso_8601_datetime_without_milliseconds_s3(_reported(self)))
s3_models.FakeKey.last_modified_RFC1123 = property(lambda self: s3_models.rfc_1123_datetime(_reported(self)))


# ---------------------------------------------------------------- Object Lock on a copy

# A CopyObject that sets a lock (x-amz-object-lock-*) needs no Content-MD5 or checksum header: the rule is PutObject's
# ("The Content-MD5 or x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
# retention period configured using Amazon S3 Object Lock", PutObject API reference), and CopyObject has no body and no
# Content-MD5 member at all (its API reference; the SDKs cannot send one). moto refuses such a copy with
# MissingUploadObjectWithObjectLockHeaders; it is let through to moto's own copy, which applies the lock.
_original_key_response_put = s3_responses.S3Response._key_response_put


def _key_response_put(self, query, key_name):
    if "x-amz-copy-source" in self.headers and not query.get("partNumber") and not self.headers.get("Content-Md5"):
        from werkzeug.datastructures import Headers

        headers = Headers(list(self.headers.items()))
        headers["Content-Md5"] = "not needed by a copy"
        self.headers = headers
    return _original_key_response_put(self, query, key_name)


s3_responses.S3Response._key_response_put = _key_response_put


if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
