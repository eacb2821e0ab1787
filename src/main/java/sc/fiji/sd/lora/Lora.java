package sc.fiji.sd.lora;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import sc.fiji.sd.StableDiffusionException;

/**
 * The low-rank updates of one LoRA file, by model component and module, in the two layouts in use:
 * <ul>
 * <li>kohya / A1111: {@code lora_unet_<module>.lora_down.weight}, {@code .lora_up.weight}, {@code .alpha};
 * {@code lora_te_} (SD 1.x/2.x text encoder), {@code lora_te1_} and {@code lora_te2_} (SDXL's two);</li>
 * <li>diffusers / PEFT: {@code unet.<module path>.lora_A.weight} (down) and {@code .lora_B.weight} (up), likewise
 * {@code text_encoder.} and {@code text_encoder_2.}; older diffusers files say {@code .lora.down.weight}.</li>
 * </ul>
 * Module names are kept in one form, the dotted path with {@code .} → {@code _} (kohya's own form), so both layouts
 * match the graph the same way. Convolution LoRA (LoCon: down {@code [r, in, kh, kw]}, up {@code [out, r, 1, 1]}) is
 * read like the linear kind. LoHa, LoKr and DoRA are different decompositions: refused by name.
 */
public final class Lora {

	/**
	 * One module's update: ΔW = (alpha / rank) · up · down, with up {@code [out, rank]}, down {@code [rank, in…]}. The
	 * factors stay in the file until {@link #down(float[])} and {@link #up(float[])} read them: a LoRA set lives as
	 * long as its sessions, and its values are needed only while the weights are patched.
	 */
	public record Module(String component, String key, Safetensors file, String downTensor, long[] downShape,
		String upTensor, long[] upShape, float alpha)
	{
		/** Reads the down factor {@code [rank, in…]} as fp32 from the file now, into the start of {@code into}. */
		void down(float[] into) { file.floats(downTensor, into); }

		/** Reads the up factor {@code [out, rank]} as fp32 from the file now, into the start of {@code into}. */
		void up(float[] into) { file.floats(upTensor, into); }

		public int rank() { return (int) downShape[0]; }

		/** Rows of ΔW (output features or channels). */
		public long out() { return upShape[0]; }

		/** Columns of ΔW: input features, or input channels × kernel size. */
		public long in() {
			long n = 1;
			for (int i = 1; i < downShape.length; i++) n *= downShape[i];
			return n;
		}

		/** The LoRA's own key, for messages. */
		public String label() { return component + ":" + key; }
	}

	private final Path file;
	private final Map<String, List<Module>> byComponent;

	private Lora(Path file, Map<String, List<Module>> byComponent) {
		this.file = file;
		this.byComponent = byComponent;
	}

	public Path file() { return file; }

	/** A1111's name for the LoRA: the file name without {@code .safetensors}. */
	public String name() { return nameOf(file); }

	static String nameOf(Path file) {
		String n = file.getFileName().toString();
		return n.toLowerCase(java.util.Locale.ROOT).endsWith(".safetensors") ? n.substring(0, n.length() - 12) : n;
	}

	/** The modules for {@code component} ("unet", "text_encoder", "text_encoder_2"); empty when none. */
	public List<Module> modules(String component) {
		return byComponent.getOrDefault(component, List.of());
	}

	public int moduleCount() {
		return byComponent.values().stream().mapToInt(List::size).sum();
	}

	/** Reads {@code file} (safetensors only). */
	public static Lora read(Path file) {
		Safetensors st = Safetensors.open(file);
		Map<String, Map<String, String>> parts = new TreeMap<>(); // "component key" -> role -> tensor name
		for (String name : st.entries().keySet()) {
			refuseOtherKinds(file, name);
			String[] split = split(name);
			if (split == null) continue; // not a LoRA tensor (e.g. a text-encoder embedding bundled in)
			parts.computeIfAbsent(split[0] + " " + split[1], k -> new LinkedHashMap<>()).put(split[2], name);
		}
		if (parts.isEmpty()) {
			throw new StableDiffusionException(file.getFileName() + " holds no LoRA weights (no lora_unet_/lora_te_ "
				+ "or unet./text_encoder. lora_A/lora_B keys among its " + st.entries().size() + " tensors). If it is "
				+ "a textual-inversion embedding, put it in the embeddings folder instead.");
		}
		Map<String, List<Module>> byComponent = new LinkedHashMap<>();
		for (Map.Entry<String, Map<String, String>> e : parts.entrySet()) {
			String[] ck = e.getKey().split(" ", 2);
			Map<String, String> roles = e.getValue();
			String down = roles.get("down"), up = roles.get("up");
			if (down == null || up == null) {
				throw new StableDiffusionException(file.getFileName() + " is incomplete: module " + ck[1] + " has "
					+ (down == null ? "no down (lora_down / lora_A)" : "no up (lora_up / lora_B)") + " weight.");
			}
			Safetensors.Entry d = st.entries().get(down), u = st.entries().get(up);
			long[] ds = d.shape(), us = u.shape();
			boolean upShapeOk = (us.length == 2 || (us.length == 4 && us[2] == 1 && us[3] == 1));
			if ((ds.length != 2 && ds.length != 4) || !upShapeOk || us[1] != ds[0]) {
				throw new StableDiffusionException(file.getFileName() + ": module " + ck[1] + " has down "
					+ java.util.Arrays.toString(ds) + " and up " + java.util.Arrays.toString(us)
					+ ", which do not form a low-rank update (up [out, r] · down [r, in]).");
			}
			st.checkFloats(down);
			st.checkFloats(up);
			float alpha = ds[0];
			String alphaName = roles.get("alpha");
			if (alphaName != null) alpha = st.floats(alphaName)[0];
			Module m = new Module(ck[0], ck[1], st, down, ds, up, us, alpha);
			byComponent.computeIfAbsent(ck[0], k -> new ArrayList<>()).add(m);
		}
		byComponent.replaceAll((k, v) -> Collections.unmodifiableList(v));
		return new Lora(file, Collections.unmodifiableMap(byComponent));
	}

	private static void refuseOtherKinds(Path file, String name) {
		String kind = name.contains(".hada_w") ? "LoHa" : name.contains(".lokr_w") ? "LoKr"
			: name.endsWith(".dora_scale") || name.contains(".lora_magnitude_vector") ? "DoRA" : null;
		if (kind != null) {
			throw new StableDiffusionException(file.getFileName() + " is a " + kind + " file (key " + name + "), a "
				+ "different decomposition from LoRA that is not supported yet; use a plain LoRA or LoCon, or "
				+ "merge it into the model in Python.");
		}
	}

	/** {component, module key, role ("down", "up", "alpha")}, or null for a tensor that is no LoRA part. */
	static String[] split(String name) {
		String role;
		String stem;
		if (name.endsWith(".lora_down.weight")) { role = "down"; stem = cut(name, ".lora_down.weight"); }
		else if (name.endsWith(".lora_up.weight")) { role = "up"; stem = cut(name, ".lora_up.weight"); }
		else if (name.endsWith(".lora_A.weight")) { role = "down"; stem = cut(name, ".lora_A.weight"); }
		else if (name.endsWith(".lora_B.weight")) { role = "up"; stem = cut(name, ".lora_B.weight"); }
		else if (name.endsWith(".lora.down.weight")) { role = "down"; stem = cut(name, ".lora.down.weight"); }
		else if (name.endsWith(".lora.up.weight")) { role = "up"; stem = cut(name, ".lora.up.weight"); }
		else if (name.endsWith(".alpha")) { role = "alpha"; stem = cut(name, ".alpha"); }
		else return null;
		String[][] prefixes = { { "lora_unet_", "unet" }, { "lora_te1_", "text_encoder" },
			{ "lora_te2_", "text_encoder_2" }, { "lora_te_", "text_encoder" }, { "unet.", "unet" },
			{ "text_encoder_2.", "text_encoder_2" }, { "text_encoder.", "text_encoder" } };
		for (String[] p : prefixes) {
			if (stem.startsWith(p[0])) return new String[] { p[1], normalize(stem.substring(p[0].length())), role };
		}
		return null;
	}

	/** The one form module names are compared in: {@code /} and {@code .} become {@code _}. */
	public static String normalize(String modulePath) {
		return modulePath.replace('/', '_').replace('.', '_');
	}

	private static String cut(String s, String suffix) {
		return s.substring(0, s.length() - suffix.length());
	}
}
