"""Turn AWS API errors (from boto3 or from an Ansible module's message) into one line with a fix."""

import re

import botocore.exceptions

CREDENTIAL_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
PERMISSION_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"})
QUOTA_CODES = frozenset(
    {
        "AddressLimitExceeded",
        "InstanceLimitExceeded",
        "InternetGatewayLimitExceeded",
        "LimitExceeded",
        "LimitExceededException",
        "MaxSpotInstanceCountExceeded",
        "ResourceLimitExceeded",
        "RulesPerSecurityGroupLimitExceeded",
        "SecurityGroupLimitExceeded",
        "ServiceQuotaExceededException",
        "TooManyLoadBalancers",
        "TooManyTargetGroups",
        "TooManyTargets",
        "VcpuLimitExceeded",
        "VpcLimitExceeded",
    }
)
CAPACITY_CODES = frozenset({"InsufficientInstanceCapacity", "InsufficientCapacity", "Unsupported"})

_API_ERROR = re.compile(r"An error occurred \((?P<code>[\w.]+)\) when calling the (?P<op>\w+) operation(?: \([^)]*\))?: (?P<msg>.*)")


def advice(code: str, message: str, doing: str) -> str:
    """One line for error CODE with MESSAGE that happened while DOING."""
    message = " ".join(message.split())[:300]
    if code in CREDENTIAL_CODES:
        return f"AWS rejected the credentials ({code}) while {doing}: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE"
    if code in PERMISSION_CODES:
        return f"AWS refused {doing} ({code}: {message}): grant the missing IAM permission or use other credentials"
    if code in QUOTA_CODES:
        return f"AWS quota reached while {doing} ({code}: {message}): ask for more in Service Quotas, or use fewer or smaller instances"
    if code in CAPACITY_CODES:
        return f"AWS has no capacity for this request while {doing} ({code}: {message}): try another instance type or region"
    if code.startswith("InvalidAMIID"):
        return f"AMI not usable while {doing} ({code}: {message}): set aws.ami to an AMI id that exists in this region"
    if code in ("InvalidInstanceType", "InvalidParameterValue") and "instance type" in message.lower():
        return f"instance type not offered while {doing} ({message}): pick another aws.controller_instance_type / aws.worker_instance_type"
    if code == "OptInRequired":
        return f"this AWS region is not enabled for the account ({message}): enable it in the console or pick another --region"
    return f"AWS error while {doing} ({code}: {message})"


def explain(error: Exception, doing: str) -> str:
    """One line for a boto3/botocore exception."""
    if isinstance(error, botocore.exceptions.ClientError):
        details = error.response.get("Error", {})
        return advice(str(details.get("Code", "Unknown")), str(details.get("Message", "")), doing)
    if isinstance(error, botocore.exceptions.NoCredentialsError):
        return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`"
    if isinstance(error, botocore.exceptions.EndpointConnectionError | botocore.exceptions.ConnectTimeoutError):
        return f"cannot reach the AWS API while {doing} ({error}): check the network, or AWS_ENDPOINT_URL if you set it"
    return f"AWS call failed while {doing}: {error}"


def explain_message(text: str, doing: str) -> str:
    """One line for an Ansible module's failure message (which embeds botocore's error text)."""
    found = _API_ERROR.search(text)
    if found:
        return advice(found["code"], found["msg"], doing)
    if "Unable to locate credentials" in text or "No credentials" in text:
        return "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run `aws configure`"
    if "Could not connect to the endpoint URL" in text:
        return f"cannot reach the AWS API while {doing}: check the network, or AWS_ENDPOINT_URL if you set it"
    return f"{doing} failed: {' '.join(text.split())[:400]}"
