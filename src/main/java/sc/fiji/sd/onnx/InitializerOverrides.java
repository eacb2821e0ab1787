package sc.fiji.sd.onnx;

import java.nio.file.Path;
import java.util.Map;

import ai.onnxruntime.OnnxTensorLike;

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

	@Override
	void close();
}
