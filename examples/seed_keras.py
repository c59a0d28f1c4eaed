"""seed_keras.py — the seed notebook's Keras code run on hood: only the two import lines differ
from the TensorFlow version. The data is a small generated two-class problem (two features,
labels from a circle), so this runs in seconds; it prints the evaluation and a prediction.
Run from the build tree: HOOD_LIBRARY=build/libhood.so PYTHONPATH=python python3 examples/seed_keras.py"""
import numpy as np

# from tensorflow.keras.models import Sequential
# from tensorflow.keras.layers import Dense
from hood.keras import Sequential
from hood.keras.layers import Dense

rng = np.random.default_rng(2024)
X = rng.uniform(-1.0, 1.0, size=(400, 2)).astype(np.float32)
y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 0.5).astype(np.int32)  # inside the circle or not
X_training, y_training = X[:300], y[:300]
X_validation, y_validation = X[300:], y[300:]
some_new_sample = np.array([[0.0, 0.1], [0.9, -0.9]], dtype=np.float32)


# --- the seed's code, unchanged -----------------------------------------------------------------
def create_model(input_features):

    # Create an instance of Sequential class
    model = Sequential()

    # Add layers
    model.add(Dense(10, input_dim = input_features, activation = 'tanh'))
    model.add(Dense(1, activation='sigmoid'))

    # Compile the model
    model.compile(loss='binary_crossentropy', optimizer='SGD', metrics=['accuracy'])

    return model


model = create_model(X_training.shape[1])
model.fit(X_training, y_training, epochs = 2000, verbose = 0)
loss, accuracy = model.evaluate(X_validation, y_validation)
prediction = model.predict(some_new_sample)
# --- end of the seed's code ---------------------------------------------------------------------

print("validation loss %.4f accuracy %.4f" % (loss, accuracy))
print("prediction for (0, 0.1) and (0.9, -0.9):", prediction.ravel())
