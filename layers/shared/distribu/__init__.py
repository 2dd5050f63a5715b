"""Distribu's domain package: business rules and persistence shared by every function.

Functions are thin adapters (HTTP, SQS, S3, schedules) around the modules here. Nothing heavy is
imported at package import time; each module pulls in only what it needs.
"""
