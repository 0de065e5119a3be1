"""The S3 backend: blobs and journal in a bucket shared by several stations."""
