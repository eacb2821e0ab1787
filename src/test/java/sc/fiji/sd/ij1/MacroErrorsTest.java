package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sc.fiji.sd.imagej.Settings;

/**
 * Bad macro options end the macro with a message a scientist understands — and never hang on a dialog. Runs the
 * real ImageJ 1 macro interpreter, headless (ij1-patcher); the commands come from our plugins.config.
 */
class MacroErrorsTest {

	private static HeadlessImageJ ij;

	@BeforeAll
	static void startImageJ() {
		ij = HeadlessImageJ.shared();
	}

	/** The macro's error message; fails when the macro ran without one. */
	private String errorOf(String macro) {
		String printed = ij.runMacro(macro);
		int start = printed.indexOf("Macro Error: ");
		assertTrue(start >= 0, "expected a macro error from: " + macro + "\nbut it printed: " + printed);
		return printed.substring(start);
	}

	@Test
	void aWordWhereANumberBelongs() {
		String error = errorOf("run(\"Text to Image...\", \"prompt=[a cat] steps=abc\");");
		assertTrue(error.contains("steps=abc") && error.contains("steps=20"), error);
	}

	@Test
	void aNegativeSeedOtherThanMinusOne() {
		String error = errorOf("run(\"Text to Image...\", \"prompt=x seed=-5\");");
		assertTrue(error.contains("Seed -5 is not possible") && error.contains("-1 for a random one"), error);
	}

	@Test
	void anUnknownScheduler() {
		String error = errorOf("run(\"Text to Image...\", \"prompt=x scheduler=[Euler b]\");");
		assertTrue(error.contains("Unknown scheduler \"Euler b\"") && error.contains("Euler a"), error);
	}

	@Test
	void inpaintWithoutASelection() {
		String error = errorOf("newImage(\"photo\", \"RGB black\", 64, 64, 1);\n"
			+ "run(\"Inpaint...\", \"prompt=x seed=1\");");
		assertTrue(error.contains("selection") && error.contains("photo"), error);
	}

	@Test
	void imageToImageWithoutAnImage() {
		String error = errorOf("close(\"*\");\nrun(\"Image to Image...\", \"prompt=x\");");
		assertTrue(error.contains("none is open"), error);
	}

	@Test
	void aModelFolderThatDoesNotExist() {
		String error = errorOf("run(\"Text to Image...\", \"prompt=x seed=1 model=[/no/such/model]\");");
		assertTrue(error.contains("/no/such/model (model=) does not exist") && error.contains("Settings"), error);
	}

	@Test
	void anUnknownDeviceForARun() {
		String error = errorOf("run(\"Text to Image...\", \"prompt=x seed=1 device=tpu\");");
		assertTrue(error.contains("Unknown device \"tpu\"") && error.contains("default, auto, cpu, cuda"), error);
	}

	@Test
	void anUnknownDevice() {
		String error = errorOf("run(\"Stable Diffusion Settings...\", \"device=tpu\");");
		assertTrue(error.contains("device=auto, cpu or cuda"), error);
	}
}
