#!/bin/sh
# A `ringtail relaunch` action (docs/relaunch.md): replace a dead EC2 instance of an Auto Scaling
# group. The group then terminates it and launches a replacement from its launch template, whose
# user data installs and starts the one-file agent: the new instance appears by itself.
#
#   unhealthy (default)  aws autoscaling set-instance-health … --health-status Unhealthy
#                        (the group replaces it on its own schedule, honouring lifecycle hooks)
#   terminate            aws autoscaling terminate-instance-in-auto-scaling-group … with
#                        --no-should-decrement-desired-capacity (replaced at once, same size)
#
# The instance id is the alert's host: run the agents with --host set to the instance id
# (user data: RINGTAIL_HOST="$(cloud-init query ds.meta_data.instance_id)" or from IMDS).
# The id is checked before it reaches aws: an alert's labels are data, not arguments.
set -eu
mode="${1:-unhealthy}"
id="${RINGTAIL_ALERT_HOST:-}"
if ! printf '%s\n' "$id" | grep -Eqx 'i-[0-9a-f]{8,17}'; then
  echo "aws-replace-instance: '$id' is not an EC2 instance id; nothing done" >&2
  exit 2
fi
case "$mode" in
  unhealthy) exec aws autoscaling set-instance-health --instance-id "$id" --health-status Unhealthy --no-should-respect-grace-period ;;
  terminate) exec aws autoscaling terminate-instance-in-auto-scaling-group --instance-id "$id" --no-should-decrement-desired-capacity ;;
  *) echo "aws-replace-instance: unknown mode '$mode' (unhealthy or terminate)" >&2; exit 2 ;;
esac
