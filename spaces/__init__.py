"""Search spaces for real domains: scikit-learn pipelines, Keras models, augmentation
policies, and reference spaces. Each domain imports its framework lazily."""
