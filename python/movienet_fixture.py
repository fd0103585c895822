"""Write tests/fixtures/movienet/: a MovieNet cast_feat dict pickled the way MovieNet's own
extraction writes it (plain pickle of numpy float32 arrays, not torch tensors), for
tests/movienet_layout.rs. Run outside CI: python3 python/movienet_fixture.py

The dict: shot index string -> [faces, 4] float32. Shot 0000 has two faces, 0001 one, 0002 none
(an empty [0, 4] array) and 0003 no key at all; the movie has 5 shots, so 0004 is missing too.
"""

import os
import pickle

import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "movienet")


def main():
    os.makedirs(OUT, exist_ok=True)
    cast = {
        "0000": np.array([[1, 2, 3, 4], [3, 2, 1, 0]], dtype=np.float32),
        "0001": np.array([[0.5, -0.5, 0.25, 1]], dtype=np.float32),
        "0002": np.zeros((0, 4), dtype=np.float32),
    }
    with open(os.path.join(OUT, "cast_numpy.pkl"), "wb") as f:
        pickle.dump(cast, f, protocol=2)
    # float64 .npy per shot, as a user's own extraction may write: read narrowed to f32.
    np.save(os.path.join(OUT, "place_f64.npy"), np.arange(6, dtype=np.float64) / 4)


if __name__ == "__main__":
    main()
