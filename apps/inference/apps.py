from django.apps import AppConfig


class InferenceConfig(AppConfig):
    name = "apps.inference"
    label = "inference"

    def ready(self) -> None:
        # Connects the worker_process_init handler that sets PyTorch threads per pool process.
        from apps.inference import worker  # noqa: F401
