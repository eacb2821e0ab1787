package sc.fiji.sd.onnx;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import ai.onnxruntime.OnnxTensorLike;
import sc.fiji.sd.StableDiffusionException;

/**
 * Weights that replace a component's initializers when its session is created (LoRA-patched weights), so that no
 * modified copy of the model is written. The tensors handed out must stay open while the sessions live: the owner
 * closes them after closing the sessions.
 */
public interface InitializerOverrides extends AutoCloseable {

	/** No overrides. */
	InitializerOverrides NONE = new InitializerOverrides() {
		@Override
		public Map<String, OnnxTensorLike> forComponent(String component, Path modelFile) {
			return Map.of();
		}

		@Override
		public void close() {}
	};

	/**
	 * The initializers of {@code component} ("unet", "text_encoder", …) in {@code modelFile} to replace, by
	 * initializer name; empty for none.
	 */
	Map<String, OnnxTensorLike> forComponent(String component, Path modelFile);

	/** This, or the part of these overrides ({@link #both}), of {@code kind}; null when there is none. */
	default <T> T part(Class<T> kind) {
		return kind.isInstance(this) ? kind.cast(this) : null;
	}

	@Override
	void close();

	/**
	 * Both overrides (e.g. LoRA-patched weights and a token table with textual-inversion rows). Owns both: closing
	 * it closes them. Two overrides of the same initializer are refused: neither would win silently.
	 */
	static InitializerOverrides both(InitializerOverrides first, InitializerOverrides second) {
		return new InitializerOverrides() {
			@Override
			public Map<String, OnnxTensorLike> forComponent(String component, Path modelFile) {
				Map<String, OnnxTensorLike> all = new LinkedHashMap<>(first.forComponent(component, modelFile));
				for (Map.Entry<String, OnnxTensorLike> e : second.forComponent(component, modelFile).entrySet()) {
					if (all.putIfAbsent(e.getKey(), e.getValue()) != null) {
						throw new StableDiffusionException("Two adaptations replace the same weight "
							+ e.getKey() + " of " + modelFile + "; apply them one at a time.");
					}
				}
				return all;
			}

			@Override
			public <T> T part(Class<T> kind) {
				T t = first.part(kind);
				return t != null ? t : second.part(kind);
			}

			@Override
			public void close() {
				try {
					first.close();
				}
				finally {
					second.close();
				}
			}
		};
	}
}
