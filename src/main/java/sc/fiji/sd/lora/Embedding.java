package sc.fiji.sd.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import sc.fiji.sd.StableDiffusionException;

/**
 * A textual-inversion embedding: {@code n} vectors that stand for a trigger word in prompts, per text encoder. Read
 * from {@code .safetensors} in the layouts in use:
 * <ul>
 * <li>A1111 / kohya: {@code emb_params} {@code [n, width]}; A1111's own (converted from {@code .pt}):
 * {@code string_to_param.*} {@code [n, width]};</li>
 * <li>diffusers ({@code learned_embeds.safetensors}): one tensor named by its token, {@code [width]} or
 * {@code [n, width]};</li>
 * <li>SDXL: {@code clip_l} {@code [n, 768]} (the first text encoder) and {@code clip_g} {@code [n, 1280]} (the
 * second).</li>
 * </ul>
 * The trigger word is the file name without extension (A1111's convention); a diffusers file's token is one too.
 */
public final class Embedding {

	/** The first text encoder's component name; an SDXL pair's {@code clip_g} is for {@value #SECOND_ENCODER}. */
	public static final String FIRST_ENCODER = "text_encoder", SECOND_ENCODER = "text_encoder_2";

	private final Path file;
	private final List<String> triggers;
	private final int vectors;
	private final Map<String, float[]> rows; // by text encoder, [vectors × width] row-major
	private final String layout;

	private Embedding(Path file, List<String> triggers, int vectors, Map<String, float[]> rows, String layout) {
		this.file = file;
		this.triggers = triggers;
		this.vectors = vectors;
		this.rows = rows;
		this.layout = layout;
	}

	public Path file() { return file; }

	/** The name A1111 shows and writes in {@code TI hashes}: the file name without extension. */
	public String name() { return nameOf(file); }

	/** The words that stand for the embedding in a prompt: its name, and a diffusers file's token. */
	public List<String> triggers() { return triggers; }

	/** Vectors per text encoder (prompt tokens the word becomes). */
	public int vectors() { return vectors; }

	/** "A1111", "diffusers" or "SDXL": for messages. */
	public String layout() { return layout; }

	/** The vectors for {@code encoder} ({@value #FIRST_ENCODER} or {@value #SECOND_ENCODER}), or null when none. */
	public float[] rows(String encoder) { return rows.get(encoder); }

	/** The width of the vectors for {@code encoder}, or 0 when the embedding has none for it. */
	public int width(String encoder) {
		float[] r = rows.get(encoder);
		return r == null ? 0 : r.length / vectors;
	}

	/** The file name without {@code .safetensors} (or another extension). */
	public static String nameOf(Path file) {
		String n = file.getFileName().toString();
		int dot = n.lastIndexOf('.');
		return dot > 0 ? n.substring(0, dot) : n;
	}

	/** Reads {@code file} (safetensors only; pickle files are refused). */
	public static Embedding read(Path file) {
		Safetensors st = Safetensors.open(file);
		Map<String, Safetensors.Entry> entries = st.entries();
		List<String> triggers = new ArrayList<>(List.of(nameOf(file)));
		Map<String, float[]> rows = new LinkedHashMap<>();
		String layout;
		int vectors;
		if (entries.containsKey("clip_l") || entries.containsKey("clip_g")) {
			if (!entries.containsKey("clip_l") || !entries.containsKey("clip_g")) {
				throw bad(file, "it has " + (entries.containsKey("clip_l") ? "clip_l but no clip_g" : "clip_g but no clip_l")
					+ "; an SDXL embedding holds both");
			}
			layout = "SDXL";
			vectors = rowsOf(file, st, "clip_l", FIRST_ENCODER, rows);
			int g = rowsOf(file, st, "clip_g", SECOND_ENCODER, rows);
			if (g != vectors) throw bad(file, "clip_l has " + vectors + " vectors but clip_g " + g);
		}
		else if (entries.containsKey("emb_params")) {
			layout = "A1111";
			vectors = rowsOf(file, st, "emb_params", FIRST_ENCODER, rows);
		}
		else {
			List<String> params = entries.keySet().stream().filter(k -> k.startsWith("string_to_param.")).toList();
			if (params.size() > 1) throw bad(file, "it holds several terms (" + String.join(", ", params) + ")");
			if (params.size() == 1) {
				layout = "A1111";
				vectors = rowsOf(file, st, params.get(0), FIRST_ENCODER, rows);
			}
			else if (entries.size() == 1) {
				layout = "diffusers";
				String token = entries.keySet().iterator().next();
				vectors = rowsOf(file, st, token, FIRST_ENCODER, rows);
				if (!token.isBlank() && !triggers.contains(token)) triggers.add(token);
			}
			else {
				boolean lora = entries.keySet().stream().anyMatch(k -> Lora.split(k) != null);
				throw bad(file, lora ? "it is a LoRA; put it in the LoRA folder (<lora:" + nameOf(file) + ":1>)"
					: "it holds " + entries.size() + " tensors but none of emb_params, string_to_param.*, clip_l and "
						+ "clip_g, nor a single token's vectors (diffusers)");
			}
		}
		return new Embedding(file, List.copyOf(triggers), vectors, rows, layout);
	}

	/** Reads tensor {@code name} as {@code [n, width]} rows for {@code encoder}; returns n. */
	private static int rowsOf(Path file, Safetensors st, String name, String encoder, Map<String, float[]> rows) {
		long[] shape = st.entries().get(name).shape();
		if (shape.length == 1) shape = new long[] { 1, shape[0] };
		if (shape.length != 2 || shape[0] < 1 || shape[1] < 1) {
			throw bad(file, "tensor " + name + " has shape " + Arrays.toString(st.entries().get(name).shape())
				+ "; embedding vectors are [vectors, width]");
		}
		float[] values = st.floats(name);
		for (float v : values) {
			if (!Float.isFinite(v)) throw bad(file, "tensor " + name + " holds NaN or infinite values");
		}
		rows.put(encoder, values);
		return (int) shape[0];
	}

	private static StableDiffusionException bad(Path file, String why) {
		return new StableDiffusionException(file.getFileName() + " is not a textual-inversion embedding we can read: "
			+ why + ".");
	}

	@Override
	public String toString() {
		return name() + " (" + layout + ", " + vectors + " vectors)";
	}
}
