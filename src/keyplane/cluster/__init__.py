"""Several instances, one exchange: the writer's election and the channel gateways forward on."""
